"""``kanban serve``: the API, the live event stream and the web UI in one process, plus the
dispatcher and the notifier loops unless told not to run them."""

from __future__ import annotations

import gc
import logging
import signal
import socket
import sys
import threading
from typing import Any

import click

from ..services import configwatch
from .app import App, pass_app


def _start_loop(loop: Any, label: str) -> tuple[Any, threading.Thread]:
    """Run ``loop.run()`` (the dispatcher or the notifier) in a daemon thread."""
    thread = threading.Thread(target=loop.run, name=f"kanban-{label}", daemon=True)
    thread.start()
    return loop, thread


def watch_hup(loop: configwatch.WatchLoop) -> None:
    """SIGHUP reloads config.yaml now (where the platform has it)."""
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda _signum, _frame: loop.poke())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it a response written in two parts (headers,
    # then body) waits ~40 ms for the client's delayed ACK on every keep-alive request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bound_address(sock: socket.socket) -> str:
    """What the socket is really bound to (``0.0.0.0:8765`` means every interface)."""
    addr, port = sock.getsockname()[:2]
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def raise_open_file_limit() -> None:
    """Lift the soft open-file limit to the hard one (capped): the default 1,024 lets a flood of
    idle connections starve the server and the workers the dispatcher spawns."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def url_host(host: str) -> str:
    h = host.strip("[]")
    if h in ("0.0.0.0", "::"):
        return "127.0.0.1" if h == "0.0.0.0" else "[::1]"
    return f"[{h}]" if ":" in h else h


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (default: serve.port, 8765; 0 picks a free one and prints it).")
@click.option("--no-dispatch", is_flag=True, help="Do not run the dispatcher loop in this process.")
@click.option("--no-notify", is_flag=True, help="Do not run the notifier loop in this process.")
@pass_app
def serve(app: App, host: str | None, port: int | None, no_dispatch: bool, no_notify: bool) -> None:
    """Serve the REST API, the live event WebSocket and the web UI."""
    import uvicorn

    from ..web.app import create_app
    from ..web.auth import is_loopback, load_token, weak_token
    from ..web.protocol import with_header_timeout

    # Plain lines on stderr, as `kanban daemon` writes them. Set before the app is built: the MCP
    # SDK otherwise installs a rich handler on the root logger, whose rendering of one warning
    # costs milliseconds (the dispatcher warns once per ready task with an unknown assignee).
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    settings = app.settings
    host = host or settings.serve.host
    port = settings.serve.port if port is None else port
    source = load_token(settings)
    if not is_loopback(host) and source.origin != "env or config":
        raise click.ClickException(
            f"refusing to listen on {host} (reachable from other machines) with a token this "
            "server made up itself; choose one: set KANBAN_TOKEN or `token:` in config.yaml, "
            "and list the names clients use in serve.allowed_hosts")
    weak = None if is_loopback(host) else weak_token(source.token)
    if weak:
        raise click.ClickException(
            f"refusing to listen on {host} (reachable from other machines) with a weak token: "
            f"{weak}. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    raise_open_file_limit()
    ctx = app.ctx
    watch = configwatch.ConfigWatch(ctx)
    dispatcher = None
    if settings.serve.dispatch and not no_dispatch:
        from ..dispatch.dispatcher import Dispatcher

        dispatcher = Dispatcher(ctx, config=watch)
    web = create_app(settings, ctx=ctx, token=source, bound_host=host, dispatcher=dispatcher)
    web.state.config_watch = watch  # its state is on /healthz
    sock = _bind(host, port)
    actual = sock.getsockname()[1]
    loops = [_start_loop(configwatch.WatchLoop(watch), "config")]
    watch_hup(loops[0][0])
    if dispatcher is not None:
        loops.append(_start_loop(dispatcher, "dispatcher"))
    if settings.serve.notify and not no_notify:
        from ..notify.notifier import Notifier

        loops.append(_start_loop(Notifier(ctx), "notifier"))
    # /healthz answers 503 when a loop this server started has died or stopped passing.
    web.state.loops = {t.name.removeprefix("kanban-"): t.is_alive for _, t in loops[1:]}
    click.echo(f"kanban serve: listening on {bound_address(sock)}"
               + ("" if is_loopback(host) else " (reachable from other machines)"))
    # The one place the token is shown: a link that logs the browser in (as Jupyter does).
    click.echo(f"kanban serve: open http://{url_host(host)}:{actual}/?token={source.token}", err=False)
    config = uvicorn.Config(web, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5, timeout_keep_alive=5,
                            http=with_header_timeout(settings.serve.header_timeout_seconds))
    server = uvicorn.Server(config)
    # Everything built so far (the app, SQLAlchemy, pydantic and the MCP SDK: hundreds of
    # thousands of objects) lives as long as the process. Frozen, it is left out of the garbage
    # collector's full passes, which otherwise stop every request for 70-120 ms now and then.
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        for loop, _ in loops:
            loop.stop()
        for _, thread in loops:
            thread.join(timeout=10)
        sock.close()
