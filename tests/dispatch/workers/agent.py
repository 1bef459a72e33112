"""A small worker for the dispatcher tests: it talks to the board exactly as an agent would.

``agent.py MODE [ARG]``; modes:
  complete        write the context document to stdout, then complete with a summary and metadata
  slow SECONDS    heartbeat, sleep, then complete
  once-hang       first attempt hangs (to be killed); a later attempt completes
  exit CODE       exit with CODE without completing
  hang            sleep forever (for max runtime)
  block           block with a reason
  env             print the worker environment and cwd, then complete
  record FILE     append "start <task> <run>" to FILE, work a little, complete, append "done ..."
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from agentkanban.config import load_settings
from agentkanban.services import Actor, context, open_ctx, runs, transitions


def main() -> int:
    mode = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    settings = load_settings()
    ctx = open_ctx(settings)
    actor = Actor.from_settings(settings)
    board = os.environ["KANBAN_BOARD"]
    task_id = os.environ["KANBAN_TASK_ID"]
    print(f"worker {os.getpid()} for {task_id} run {os.environ['KANBAN_RUN_ID']} mode {mode}", flush=True)
    if mode == "record":
        line = f"{task_id} {os.environ['KANBAN_RUN_ID']} {os.getpid()}"
        with open(arg, "a") as f:
            f.write(f"start {line}\n")
        time.sleep(0.3)
        transitions.complete(ctx, board, task_id, actor=actor, summary="recorded")
        with open(arg, "a") as f:
            f.write(f"done {line}\n")
        return 0
    if mode == "exit":
        return int(arg)
    if mode == "hang":
        time.sleep(3600)
    if mode == "block":
        transitions.block(ctx, board, task_id, actor=actor, reason="needs a human decision")
        return 0
    if mode == "once-hang":
        marker = Path(os.environ["KANBAN_WORKSPACE"]) / "attempted"
        if not marker.exists():
            marker.write_text(os.environ["KANBAN_RUN_ID"])
            time.sleep(3600)
    if mode == "slow":
        runs.heartbeat(ctx, board, task_id, actor=actor, note="working")
        time.sleep(float(arg))
    if mode == "env":
        keys = ["KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_BOARD", "KANBAN_HOME", "KANBAN_PROFILE",
                "KANBAN_WORKSPACE", "KANBAN_DATABASE_URL", "EXTRA"]
        print("ENV " + json.dumps({k: os.environ.get(k) for k in keys} | {"cwd": os.getcwd(),
                                   "argv": sys.argv, "has_token": bool(os.environ.get("KANBAN_RUN_TOKEN"))}))
    print(context.build(ctx, board, task_id), flush=True)
    transitions.complete(ctx, board, task_id, actor=actor, summary=f"finished {task_id}",
                         metadata={"task": task_id, "pid": os.getpid()})
    print("completed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
