"""``kanban mcp --http``: streamable HTTP on a loopback port, behind a bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from agentkanban.config import Settings
from agentkanban.mcp.server import ORCHESTRATOR_CORE
from agentkanban.services import Ctx, tasks
from mcp import Client

from .helpers import base_env, call, free_port, make_task

TOKEN = "test-token-0123456789abcdef"


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"server did not listen on {port}: {log.read_text()}")


@pytest.fixture
def mcp_url(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "mcp-http.log"
    env = {**os.environ, **base_env(settings), "KANBAN_TOKEN": TOKEN}
    env.pop("KANBAN_TASK_ID", None)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "mcp", "--http", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, proc, log)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@asynccontextmanager
async def _client(url: str, token: str) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=60) as client:
            yield client


def test_http_requires_the_bearer_token(mcp_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        res = httpx.post(mcp_url, json=body, headers=headers)
        assert res.status_code == 401
        assert res.json() == {"detail": "missing or invalid bearer token"}
        assert res.headers["www-authenticate"].startswith("Bearer")


def test_http_tools_with_the_sdk_client(mcp_url: str, ctx: Ctx) -> None:
    parent = make_task(ctx, "Plan the release", assignee="planner")

    async def main() -> None:
        async with _client(mcp_url, TOKEN) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == set(ORCHESTRATOR_CORE)
            made = await call(client, "kanban_create", title="Ship it", assignee="coder", parents=[parent])
            assert made["ok"] and made["status"] == "todo"
            shown = await call(client, "kanban_show", task_id=made["task_id"])
            assert shown["parents"] == [parent] and "Ship it" in shown["worker_context"]
            res = await client.read_resource(f"kanban://task/{parent}/context")
            assert "Plan the release" in res.contents[0].text  # type: ignore[union-attr]
            bad = await call(client, "kanban_link", parent_id=parent)
            assert bad["ok"] is False and "child_id" in bad["error"]["message"]

    anyio.run(main)
    assert tasks.show(ctx, "default", parent).children != []


def test_http_refuses_to_start_without_a_token(sqlite_settings: Settings) -> None:
    env = {**os.environ, **base_env(sqlite_settings)}
    env.pop("KANBAN_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "agentkanban", "mcp", "--http", "--port", "1"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "needs a token" in done.stderr
