"""``kanban serve`` carries the MCP tools at ``/mcp``, behind the same token as the API."""

from __future__ import annotations

import threading

import anyio
import httpx
import httpx2
from fastapi import FastAPI
from mcp.client.streamable_http import streamable_http_client

from agentkanban.services import Ctx, tasks
from mcp import Client

from .conftest import LiveServer, make_task


def test_mcp_endpoint_in_the_server(app: FastAPI, token: str, ctx: Ctx) -> None:
    tid = make_task(ctx, "reached over MCP")
    with LiveServer(app) as live:
        assert httpx.post(f"{live.url}/mcp", json={}).status_code == 401
        wrong = httpx.post(f"{live.url}/mcp", json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        forged = httpx.post(f"{live.url}/mcp", json={}, headers={
            "Authorization": f"Bearer {token}", "Host": "evil.example"})
        assert forged.status_code == 400  # the server's Host check covers /mcp too

        async def main() -> None:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
                async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
                    names = {t.name for t in (await client.list_tools()).tools}
                    assert {"kanban_show", "kanban_create", "kanban_complete"} <= names
                    result = await client.call_tool("kanban_comment", {"task_id": tid, "body": "hi"})
                    assert not result.is_error

        # In a thread of its own: a browser test's driver may keep an event loop in this one.
        errors: list[BaseException] = []

        def run() -> None:
            try:
                anyio.run(main)
            except BaseException as err:  # re-raised below, in the test's thread
                errors.append(err)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(60)
        assert not worker.is_alive()
        if errors:
            raise errors[0]
    assert [c.body for c in tasks.show(ctx, "default", tid).comments] == ["hi"]
