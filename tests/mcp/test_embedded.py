"""The MCP endpoint inside a host web app, the way ``kanban serve`` carries it at ``/mcp``."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from mcp.client.streamable_http import streamable_http_client
from starlette.routing import Route

from agentkanban.config import Settings
from agentkanban.mcp.asgi import http_app
from agentkanban.mcp.server import DESCRIPTIONS
from agentkanban.services import Ctx, tasks
from mcp import Client

from .helpers import call, free_port, make_task

TOKEN = "host-app-token-abcdef0123456789"


@pytest.fixture
def host_url(settings: Settings, ctx: Ctx) -> Iterator[str]:
    mcp_app = http_app(settings, TOKEN, tools="all", ctx=ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp_app.lifespan():
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    app.router.routes.append(Route("/mcp", mcp_app))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "host app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_mcp_route_in_a_host_app(host_url: str, ctx: Ctx) -> None:
    assert httpx.get(f"{host_url}/api/health").json() == {"ok": True}
    assert httpx.post(f"{host_url}/mcp", json={}).status_code == 401
    tid = make_task(ctx, "Embedded")

    async def main() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(f"{host_url}/mcp", http_client=http)) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert names == set(DESCRIPTIONS)
                said = await call(client, "kanban_comment", task_id=tid, body="from the host app")
                assert said["ok"] and said["author"] == "orchestrator"

    anyio.run(main)
    assert [c.body for c in tasks.show(ctx, "default", tid).comments] == ["from the host app"]
