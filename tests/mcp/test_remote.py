"""``kanban --server URL mcp``: an agent's stdio MCP connection relayed to a real ``kanban serve``.

Inside a worker the run token is the credential and the server's tools act for that attempt
only, exactly as ``kanban mcp`` on the database does; the worker's process has no database to
open (an empty ``KANBAN_HOME``, no database URL). The same calls give the same answers both ways.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from agentkanban.mcp.server import DESCRIPTIONS, WORKER_ALL, WORKER_CORE
from agentkanban.services import Actor, Ctx, attachments, runs, tasks, transitions
from mcp import Client, StdioServerParameters

from ..serving import Server, served, start_server, stop_server
from .helpers import payload

TOKEN = "operator-token-for-the-mcp-relay-suite"
USER = Actor("user")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served(tmp_path_factory.mktemp("relay-home"), TOKEN) as srv:
        yield srv


@pytest.fixture(scope="module")
def ctx(server: Server) -> Ctx:
    return server.ctx()  # type: ignore[no-any-return]


def chain(ctx: Ctx, profile: str = "coder") -> tuple[str, str, runs.Claim]:
    """A done parent, its child claimed by ``profile``: (parent, task, claim)."""
    parent = tasks.create(ctx, "default", title="Design the parser", actor=USER).task.id
    transitions.complete(ctx, "default", parent, actor=USER, summary="grammar in docs/grammar.md")
    task = tasks.create(ctx, "default", title="Write the parser", actor=USER, assignee=profile,
                        parents=[parent], body="Follow the grammar.").task.id
    got = runs.claim(ctx, "default", task, profile=profile, lock=f"test:{task}", ttl=900)
    assert got is not None
    return parent, task, got


def worker_vars(claim: runs.Claim, profile: str = "coder") -> dict[str, str]:
    return {"KANBAN_TASK_ID": claim.task.id, "KANBAN_RUN_ID": str(claim.run_id),
            "KANBAN_RUN_TOKEN": claim.token, "KANBAN_PROFILE": profile}


def remote_env(server: Server, home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A process that can reach the board only through the server."""
    home.mkdir(exist_ok=True)
    return {"PATH": os.environ.get("PATH", ""), "KANBAN_HOME": str(home), "KANBAN_URL": server.url,
            **extra}


def local_env(server: Server, extra: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "KANBAN_HOME": str(server.home), **extra}


Session = Callable[[Client], Awaitable[Any]]


def drive(env: dict[str, str], body: Session, *args: str) -> Any:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentkanban", "mcp", *args],
                                   env=env)

    async def main() -> Any:
        async with Client(params, read_timeout_seconds=60) as client:
            return await body(client)

    return anyio.run(main)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return payload(await client.call_tool(tool, arguments))


def normal(value: Any) -> str:
    """Task ids by order of appearance, stored names as H, numbers as 9 (run ids, clocks)."""
    text = json.dumps(value, sort_keys=True)
    seen: dict[str, str] = {}
    text = re.sub(r"t_[0-9a-f]{8}", lambda m: seen.setdefault(m[0], f"T{len(seen)}"), text)
    text = re.sub(r"[0-9a-f]{32}", "H", text)  # an attachment's stored name
    return re.sub(r"\d+(\.\d+)?", "9", text)


def worker_session(stranger: str, report: Path) -> Session:
    """A worker's turn: read, report, attach, follow up, link, finish; and what it may not do."""

    async def body(client: Client) -> dict[str, Any]:
        out: dict[str, Any] = {"tools": sorted(t.name for t in (await client.list_tools()).tools)}
        out["show"] = await call(client, "kanban_show")
        out["show_stranger"] = await call(client, "kanban_show", task_id=stranger)
        out["heartbeat"] = await call(client, "kanban_heartbeat", note="parsing", progress="1/3")
        out["comment"] = await call(client, "kanban_comment", body="Chose recursive descent.")
        out["attach"] = await call(client, "kanban_attach", filename="report.md", path=str(report))
        out["attach_missing"] = await call(client, "kanban_attach", filename="x.md",
                                           path=str(report.parent / "no-such-file"))
        first = await call(client, "kanban_create", title="Test the parser", assignee="coder",
                           parents=[out["show"]["task"]["id"]])
        second = await call(client, "kanban_create", title="Benchmark the parser", assignee="coder",
                            parents=[out["show"]["task"]["id"]])
        out["create"] = first
        out["orphan"] = await call(client, "kanban_create", title="Unrelated")
        out["link"] = await call(client, "kanban_link", parent_id=first["task_id"],
                                 child_id=second["task_id"])
        out["link_stranger"] = await call(client, "kanban_link", parent_id=first["task_id"],
                                          child_id=stranger)
        out["complete_stranger"] = await call(client, "kanban_complete", task_id=stranger, summary="x")
        out["context"] = (await client.read_resource(
            f"kanban://task/{out['show']['task']['id']}/context")).contents[0].text  # type: ignore[union-attr]
        out["complete"] = await call(client, "kanban_complete", summary="Parser written.",
                                     metadata={"files": ["parser.py"]})
        out["complete"]["children"] = sorted(out["complete"]["children"].values())  # ids sort at random
        out["late"] = await call(client, "kanban_heartbeat")
        return out

    return body


def test_a_remote_worker_gets_the_same_answers_as_a_local_one(server: Server, ctx: Ctx,
                                                             tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_bytes(b"# Report\n\nall green\n")
    stranger = tasks.create(ctx, "default", title="Someone else's", actor=USER).task.id
    results, tasks_of = {}, {}
    for n, mode in enumerate(("local", "remote")):
        profile = f"p{n}x"  # its own profile: one mode's work is not the other's "recent work"
        _, task, claim = chain(ctx, profile)
        tasks_of[mode] = task
        env = local_env(server, worker_vars(claim, profile)) if mode == "local" else \
            remote_env(server, tmp_path / "worker-home", worker_vars(claim, profile))
        results[mode] = drive(env, worker_session(stranger, report))
    local, remote = results["local"], results["remote"]
    for key in local:
        assert normal(local[key]) == normal(remote[key]), key
    assert remote["tools"] == sorted(WORKER_CORE)
    assert remote["show"]["task"]["id"] == tasks_of["remote"]
    assert "grammar in docs/grammar.md" in remote["show"]["worker_context"]  # the parent's handoff
    assert remote["show_stranger"]["error"]["type"] == "Forbidden"
    assert remote["heartbeat"]["ok"] and remote["comment"]["author"] == "p1x"
    assert remote["attach"]["size"] == len(report.read_bytes())
    assert "no file at" in remote["attach_missing"]["error"]["message"]
    assert "only create tasks under its own task" in remote["orphan"]["error"]["message"]
    assert remote["link"]["linked"] is True and remote["link"]["child_status"] == "todo"
    assert remote["link_stranger"]["error"]["type"] == "Forbidden"
    assert remote["complete_stranger"]["error"]["type"] == "Forbidden"
    assert remote["complete"]["status"] == "done"
    assert "no longer current" in remote["late"]["error"]["message"]
    assert remote["context"].startswith(f"# Kanban task {tasks_of['remote']}")
    # What the remote worker did is on the board, its file byte for byte.
    (att,) = attachments.for_task(ctx, tasks_of["remote"])
    assert attachments.get(ctx, att.id)[1].read_bytes() == report.read_bytes()
    assert os.listdir(tmp_path / "worker-home") == []  # it never had a database to open
    shown = tasks.show(ctx, "default", stranger)
    assert shown.task.status.value == "ready" and not shown.children and not shown.comments


def test_a_run_token_opens_its_own_attempt_and_nothing_more(server: Server, ctx: Ctx,
                                                           tmp_path: Path) -> None:
    _, task, claim = chain(ctx)
    _, other_task, other = chain(ctx)
    env = remote_env(server, tmp_path / "home", worker_vars(claim))

    async def everything(client: Client) -> dict[str, Any]:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        archive = await client.call_tool("kanban_archive", {"task_id": other_task})
        return {"names": names, "archive_error": archive.is_error,
                "block_other": await call(client, "kanban_block", task_id=other_task, reason="mine now")}

    got = drive(env, everything, "--tools", "all")
    assert got["names"] == sorted(set(WORKER_ALL))  # never the orchestrator's verbs
    assert got["archive_error"]
    assert got["block_other"]["error"]["type"] == "Forbidden"
    assert tasks.get(ctx, "default", other_task).status.value == "running"

    # Straight at the endpoint: a wrong token, another run's id, no run id.
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({"Authorization": "Bearer nope", "X-Kanban-Run-Id": str(claim.run_id)},
                    {"Authorization": f"Bearer {claim.token}", "X-Kanban-Run-Id": str(other.run_id)},
                    {"Authorization": f"Bearer {claim.token}"},
                    {"Authorization": f"Bearer {claim.token}", "X-Kanban-Run-Id": "x"}):
        r = httpx.post(f"{server.url}/mcp", json=hello, headers={**accept, **headers})
        assert r.status_code == 401, (headers, r.text)
    ok = httpx.post(f"{server.url}/mcp", json=hello, headers={
        **accept, "Authorization": f"Bearer {claim.token}", "X-Kanban-Run-Id": str(claim.run_id)})
    assert ok.status_code == 200 and ok.json()["result"]["serverInfo"]["name"] == "agentkanban"
    # The run token is still no API token.
    api = httpx.get(f"{server.url}/api/tasks/{task}", headers={"Authorization": f"Bearer {claim.token}"})
    assert api.status_code == 401

    # A relayed worker whose token proves nothing hears it at once, as a clear error.
    bad = remote_env(server, tmp_path / "home", {**worker_vars(claim), "KANBAN_RUN_TOKEN": "forged"})
    with pytest.raises(BaseException) as refused:
        drive(bad, lambda c: c.list_tools())
    assert "do not prove an attempt" in repr(refused.value)


def test_the_operator_through_the_relay_and_a_server_restart(server: Server, ctx: Ctx,
                                                            tmp_path: Path) -> None:
    env = remote_env(server, tmp_path / "home", {"KANBAN_TOKEN": TOKEN})
    port = int(server.url.rsplit(":", 1)[1])

    async def body(client: Client) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        made = await call(client, "kanban_create", title="Planned remotely", assignee="coder")
        # The server restarts under the open session; the relay opens a new one and goes on.
        stop_server(server)
        restarted = start_server(server.home, port=port, token=TOKEN)
        server.proc, server.client = restarted.proc, restarted.client
        shown = await call(client, "kanban_show", task_id=made["task_id"])
        return names, made, shown

    names, made, shown = drive(env, body)
    assert names == sorted(DESCRIPTIONS)
    assert made["ok"] and made["task"]["created_by"] == "orchestrator"
    assert shown["task"]["title"] == "Planned remotely"
    assert tasks.get(ctx, "default", made["task_id"]).title == "Planned remotely"

    wrong = remote_env(server, tmp_path / "home", {"KANBAN_TOKEN": "wrong"})
    with pytest.raises(BaseException) as refused:
        drive(wrong, lambda c: c.list_tools())
    assert "HTTP 401" in repr(refused.value)


def test_mcp_http_is_refused_with_a_server(server: Server, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "agentkanban", "mcp", "--http"], capture_output=True,
                          text=True, env=remote_env(server, tmp_path / "home", {"KANBAN_TOKEN": TOKEN}),
                          timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert "relays stdio to the server's /mcp" in done.stderr
