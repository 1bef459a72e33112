"""Stands in for an agent CLI (Claude Code, Codex) in the dispatcher tests.

``fake_agent_cli.py FIXTURE [--resume SESSION] [ARGS...]``: appends its argv to ``$FAKE_ARGV_LOG``,
prints the recorded output FIXTURE (tests/fixtures/agents; ``none`` prints nothing) as the real
tool would on stdout, prints the task's context document to stderr (as an agent reads it), then
blocks its task on a fresh start and completes it when resumed (``$FAKE_THEN`` overrides: block,
complete, crash; ``rc`` only exits, 1 on a fresh start and 0 when resumed, leaving the board to
its wrapper).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.fixtures.agents import output  # noqa: E402

from agentkanban.config import load_settings  # noqa: E402
from agentkanban.services import Actor, context, open_ctx, transitions  # noqa: E402


def main() -> int:
    fixture, args = sys.argv[1], sys.argv[2:]
    resumed = any(a in args for a in ("--resume", "resume", "--restore-chat-history"))
    with open(os.environ["FAKE_ARGV_LOG"], "a") as f:
        f.write(json.dumps({"run": os.environ["KANBAN_RUN_ID"], "task": os.environ["KANBAN_TASK_ID"],
                            "argv": args}) + "\n")
    settings = load_settings()
    ctx = open_ctx(settings)
    board, task_id = os.environ["KANBAN_BOARD"], os.environ["KANBAN_TASK_ID"]
    print(context.build(ctx, board, task_id), file=sys.stderr, flush=True)
    if fixture != "none":
        sys.stdout.write(output(fixture))
        sys.stdout.flush()
    then = os.environ.get("FAKE_THEN") or ("complete" if resumed else "block")
    actor = Actor.from_settings(settings)
    if then == "crash":
        return 3
    if then == "rc":
        return 0 if resumed else 1
    if then == "block":
        transitions.block(ctx, board, task_id, actor=actor, reason="review-required: check the parser")
    else:
        transitions.complete(ctx, board, task_id, actor=actor, summary=f"done (resumed={resumed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
