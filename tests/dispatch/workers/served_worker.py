"""A worker started by `kanban serve` (no run_as): it tries what an attacker would through the
`kanban` it is given, then does its job through the MCP relay. What it saw goes to result.json in
its workspace for the test. argv[1]: another task's id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import anyio

from mcp import Client, StdioServerParameters

OTHER = sys.argv[1]
KANBAN = [sys.executable, "-m", "agentkanban"]
WORKER_VARS = ("KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN")


def kanban(*args: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    done = subprocess.run([*KANBAN, *args], capture_output=True, text=True, env=env, timeout=120)
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}


async def through_mcp() -> dict[str, Any]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentkanban", "mcp"],
                                   env=dict(os.environ))
    async with Client(params, read_timeout_seconds=60) as client:
        async def call(tool: str, **args: Any) -> dict[str, Any]:
            result = await client.call_tool(tool, args)
            return json.loads(result.content[0].text)  # type: ignore[union-attr,no-any-return]

        return {"show_other": await call("kanban_show", task_id=OTHER),
                "comment": await call("kanban_comment", body="working over the relay"),
                "complete": await call("kanban_complete", summary="done through the server",
                                       metadata={"pid": os.getpid()})}


def main() -> None:
    seen: dict[str, Any] = {"env": dict(os.environ)}
    seen["show_own"] = kanban("show", "--json")
    seen["complete_other"] = kanban("complete", OTHER, "--summary", "stolen")
    seen["archive_other"] = kanban("archive", OTHER)
    seen["reclaim_other"] = kanban("reclaim", OTHER)
    seen["unset_complete_other"] = kanban("complete", OTHER, "--summary", "stolen", drop=WORKER_VARS)
    seen["unset_boards"] = kanban("boards", "list", drop=WORKER_VARS)
    seen["mcp"] = anyio.run(through_mcp)
    with open("result.json", "w") as out:
        json.dump(seen, out)


if __name__ == "__main__":
    main()
