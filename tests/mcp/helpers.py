"""Helpers for driving the MCP server the way an agent does: the SDK's own client, over stdio or HTTP."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.types import CallToolResult

from agentkanban.config import Settings
from agentkanban.services import Ctx, runs, tasks
from agentkanban.services.base import Actor
from mcp import Client, StdioServerParameters


def base_env(settings: Settings) -> dict[str, str]:
    return {"KANBAN_HOME": str(settings.home), "KANBAN_DATABASE_URL": settings.database_url}


def worker_env(settings: Settings, claim: runs.Claim, profile: str, board: str = "default") -> dict[str, str]:
    """What a dispatcher hands a worker process for one attempt."""
    return {**base_env(settings), "KANBAN_TASK_ID": claim.task.id, "KANBAN_RUN_ID": str(claim.run_id),
            "KANBAN_RUN_TOKEN": claim.token, "KANBAN_PROFILE": profile, "KANBAN_BOARD": board}


@asynccontextmanager
async def stdio_client(env: dict[str, str], *args: str, board: str | None = None) -> AsyncIterator[Client]:
    flags = ["--board", board] if board else []
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "agentkanban", *flags, "mcp", *args], env=env)
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


def payload(result: CallToolResult) -> dict[str, Any]:
    """The tool's answer as the agent reads it (the text), checked against the structured copy."""
    data: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert result.structured_content == data
    assert result.is_error is (not data["ok"])
    return data


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return payload(await client.call_tool(tool, arguments))


def make_task(ctx: Ctx, title: str, *, assignee: str = "coder", parents: tuple[str, ...] = (),
              board: str = "default") -> str:
    return tasks.create(ctx, board, title=title, actor=Actor("user"), assignee=assignee,
                        parents=list(parents), body=f"Body of {title}").task.id


def claim(ctx: Ctx, task_id: str, profile: str = "coder", board: str = "default") -> runs.Claim:
    got = runs.claim(ctx, board, task_id, profile=profile, lock=f"test:{task_id}", ttl=900)
    assert got is not None
    return got


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
