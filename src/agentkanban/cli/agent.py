"""The agent's side of the board: ``kanban mcp`` and ``kanban instructions``."""

from __future__ import annotations

import dataclasses

import click

from .app import App, pass_app


@click.command("mcp")
@click.option("--http", "http", is_flag=True,
              help="Serve streamable HTTP instead of stdio; requests need KANBAN_TOKEN as a bearer token.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on with --http.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on with --http.")
@click.option("--tools", "tools", type=click.Choice(["core", "all"]), default="core", show_default=True,
              help="core: the verbs a worker (or an orchestrator) needs; all: every kanban_* tool.")
@pass_app
def mcp_cmd(app: App, http: bool, host: str, port: int, tools: str) -> None:
    """Run the MCP server with the kanban_* tools (stdio by default).

    Inside a worker (KANBAN_TASK_ID and friends set by the dispatcher) the tools act for that
    worker and default to its task; anywhere else they are an orchestrator's toolset. With
    --server (or $KANBAN_URL) the stdio connection is relayed to that server's /mcp.
    """
    if app.server:
        _relay(app, http, tools)
        return
    settings = app.settings
    if app.board_flag:
        settings = dataclasses.replace(settings, board=app.board_flag)
    if not http:
        from ..mcp.server import build_server

        build_server(settings, tools=tools, ctx=app.ctx).run("stdio")  # type: ignore[arg-type]
        return
    import uvicorn

    from ..mcp.asgi import http_app
    from .serve import bind, bound_address, quiet_server

    token = settings.token.get_secret_value() if settings.token else None
    asgi = http_app(settings, token, tools=tools, host=host, ctx=app.ctx)  # type: ignore[arg-type]
    sock = bind(host, port)  # a busy port fails here, as `kanban serve`'s does
    server = quiet_server(uvicorn.Config(asgi, log_level="warning"))
    server.catch_signals()
    click.echo(f"kanban mcp: streamable HTTP on http://{bound_address(sock)}/mcp (bearer token required)",
               err=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    click.echo(f"kanban mcp: stopped{f' ({server.stopped_by})' if server.stopped_by else ''}", err=True)


def _relay(app: App, http: bool, tools: str) -> None:
    import sys

    from ..mcp.asgi import TOOLS_HEADER
    from ..mcp.relay import Relay

    if http:
        raise click.UsageError("--http serves this machine's database; with --server (or "
                               "$KANBAN_URL) `kanban mcp` relays stdio to the server's /mcp, "
                               "which MCP clients can also reach directly")
    remote = app.remote
    headers = {**remote.headers, TOOLS_HEADER.decode(): tools}
    Relay(remote.url, headers, deadline_seconds=remote.deadline_seconds).run(
        sys.stdin.buffer, sys.stdout.buffer)


@click.command("instructions")
@click.argument("role", type=click.Choice(["worker", "orchestrator"]), default="worker", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print {role, text}.")
def instructions(role: str, as_json: bool) -> None:
    """Print the guidance an agent follows, to paste into AGENTS.md or a skill."""
    from ..mcp.guidance import text

    if as_json:
        from .app import emit_json

        emit_json({"role": role, "text": text(role)})
    else:
        click.echo(text(role), nl=False)
