"""A worker profile for the tests: an MCP client that works its task only through the kanban_* tools.

The dispatcher starts it with the ``KANBAN_*`` environment; it starts ``python -m agentkanban mcp``
with that same environment, as an agent CLI configured with the board's MCP server would.
Everything it sees is printed, so the task's log tells what happened.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio

from mcp import Client, StdioServerParameters


async def main() -> int:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentkanban", "mcp"],
                                   env=dict(os.environ))
    async with Client(params, read_timeout_seconds=60) as client:

        async def call(tool: str, **args: Any) -> dict[str, Any]:
            result = await client.call_tool(tool, args)
            data: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
            print(tool, json.dumps(data)[:2000], flush=True)
            if not data["ok"]:
                raise SystemExit(f"{tool} failed: {data['error']}")
            return data

        tools = sorted(t.name for t in (await client.list_tools()).tools)
        print("tools", tools, flush=True)
        shown = await call("kanban_show")
        me = shown["task"]["id"]
        assert me == os.environ["KANBAN_TASK_ID"], me
        assert "## Body" in shown["worker_context"]
        await call("kanban_heartbeat", note="reading the task")
        await call("kanban_comment", body=f"Working in {os.getcwd()}.")
        follow = await call("kanban_create", title="Review the change", assignee="reviewer",
                            body="Check the parser handles empty input.", parents=[me])
        await call("kanban_complete", summary=f"Parser done for {me}; follow-up filed.",
                   metadata={"files": ["parser.py"], "tests_passed": 12, "worker_pid": os.getpid()},
                   created_cards=[follow["task_id"]])
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
