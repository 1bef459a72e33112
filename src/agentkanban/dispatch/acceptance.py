"""The acceptance attempt: ``python -m agentkanban.dispatch.acceptance``, started by the
dispatcher in a task's workspace after its worker completed (docs/review.md).

Runs the profile's acceptance commands (``KANBAN_ACCEPTANCE``, a JSON list) one after the other,
each through the shell with a time limit (``KANBAN_ACCEPTANCE_TIMEOUT`` seconds), its output going
to the attempt's log; then reports to the board with this attempt's own credential: all passed,
or the first that failed with the tail of its output. The commands themselves get no credential.
"""

from __future__ import annotations

import json
import os
import sys

from ..config import load_settings
from ..services import review
from ..services.base import Actor, open_ctx
from ..store.transient import retrying
from .spawner import run_check

TAIL_LINES = 40
# Kept from the commands: this attempt's credential and the runner's own settings.
HIDDEN = ("KANBAN_RUN_TOKEN", "KANBAN_ACCEPTANCE", "KANBAN_ACCEPTANCE_TIMEOUT")


def tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-TAIL_LINES:])


def check(commands: list[str], timeout: int) -> tuple[bool, str]:
    """Run every command until one fails; ``(passed, report)``."""
    for command in commands:
        print(f"=== acceptance: {command}", flush=True)
        status, out = run_check(command, timeout, drop_env=HIDDEN)
        sys.stdout.write(out)
        sys.stdout.flush()
        if status != 0:
            how = f"timed out after {timeout}s" if status is None else f"exited with status {status}"
            return False, f"acceptance command `{command}` {how}:\n{tail(out) or '(no output)'}"
    names = ", ".join(f"`{c}`" for c in commands) or "(none configured)"
    return True, f"{len(commands)} acceptance command(s) passed: {names}"


def main() -> int:
    commands = json.loads(os.environ.get("KANBAN_ACCEPTANCE") or "[]")
    timeout = int(os.environ.get("KANBAN_ACCEPTANCE_TIMEOUT") or 600)
    passed, report = check([str(c) for c in commands], timeout)
    print(f"=== acceptance {'passed' if passed else 'failed'}", flush=True)
    settings = load_settings()
    ctx = open_ctx(settings)
    actor = Actor.from_settings(settings)
    board = settings.board or "default"
    assert settings.worker is not None
    retrying(lambda: review.acceptance_result(ctx, board, settings.worker.task_id,  # type: ignore[union-attr]
                                              actor=actor, passed=passed, report=report),
             deadline_seconds=settings.database_retry_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
