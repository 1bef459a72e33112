"""A worker for the checkpoint tests: attempt 1 checkpoints and crashes, attempt 2 completes.

``costs_agent.py checkpoint-crash``: on its first attempt (no marker in the workspace) it
heartbeats with a note and data, writes a recognisable line to its log and exits 3; a later attempt
prints its context document and completes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from agentkanban.config import load_settings
from agentkanban.services import Actor, context, open_ctx, runs, transitions


def main() -> int:
    settings = load_settings()
    ctx = open_ctx(settings)
    actor = Actor.from_settings(settings)
    board, task_id = os.environ["KANBAN_BOARD"], os.environ["KANBAN_TASK_ID"]
    marker = Path(os.environ["KANBAN_WORKSPACE"]) / "attempted"
    if not marker.exists():
        marker.write_text(os.environ["KANBAN_RUN_ID"])
        runs.heartbeat(ctx, board, task_id, actor=actor, note="parsed 3 of 5 grammar files",
                       data='{"done": ["a.g", "b.g", "c.g"], "next": "d.g"}')
        print("Traceback (most recent call last):\nKeyError: 'LOG-MARKER-7f3a'", flush=True)
        return 3
    print(context.build(ctx, board, task_id), flush=True)
    transitions.complete(ctx, board, task_id, actor=actor, summary="finished after the crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
