"""What a running task is doing now, for its card and its detail: the worker's last checkpoint
note (and when it said it) and the progress it reported (``kanban heartbeat --progress 3/12``),
and the remote runner that holds the attempt, if one does.

Read for the running cards of a page at once (one query), from the attempt's state row; the runner
is read off the task's claim lock (``runner/<name>:0:<nonce>``), with no query.
"""

from __future__ import annotations

from typing import Any

from ..domain.models import runner_of_lock
from ..store import usage as store_usage
from .base import Ctx


def annotate(ctx: Ctx, cards: list[dict[str, Any]]) -> None:
    """Set ``activity`` (``{note, note_at, progress}``, or None) and ``runner`` (the name of the
    remote runner holding a running task's attempt, or None) on each card."""
    running = {c["current_run_id"]: c for c in cards
               if c["status"] == "running" and c.get("current_run_id") is not None}
    found: dict[int, dict[str, Any]] = {}
    if running:
        with ctx.store.read() as conn:
            found = store_usage.activity(conn, list(running))
    for c in cards:
        c["activity"] = None
        c["runner"] = runner_of_lock(c.get("claim_lock")) if c["status"] == "running" else None
    for rid, c in running.items():
        c["activity"] = found.get(rid) or {"note": None, "note_at": None, "progress": None}
