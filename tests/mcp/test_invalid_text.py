"""Tool arguments with invalid text are refused before any tool runs, like every other surface."""

from __future__ import annotations

import json

import anyio

from agentkanban.config import Settings
from agentkanban.mcp.server import build_server
from agentkanban.services import Ctx, tasks


def test_a_nul_or_lone_surrogate_in_any_argument_is_refused(ctx: Ctx, settings: Settings) -> None:
    server = build_server(settings, tools="all", ctx=ctx)

    async def main() -> list[dict]:
        out = []
        for name, args in (("kanban_create", {"title": "x", "skills": ["a\x00"]}),
                           ("kanban_list", {"tenant": "a\x00"}),
                           ("kanban_create", {"title": "caf\udce9"})):
            result = await server.call_tool(name, args)
            out.append(json.loads(result.content[0].text))  # type: ignore[union-attr]
        return out

    for answer in anyio.run(main):
        assert answer["ok"] is False and answer["error"]["type"] == "InvalidText", answer
        assert "invalid text" in answer["error"]["message"]
    assert tasks.list_tasks(ctx, "default") == []
