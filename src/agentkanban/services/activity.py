"""What a running task is doing now, for its card and its detail: the worker's last checkpoint
note (and when it said it) and the progress it reported (``kanban heartbeat --progress 3/12``).

Read for the running cards of a page at once (one query), from the attempt's state row.
"""

from __future__ import annotations

from typing import Any

from ..store import usage as store_usage
from .base import Ctx


def annotate(ctx: Ctx, cards: list[dict[str, Any]]) -> None:
    """Set ``activity`` (``{note, note_at, progress}``, or None) on each card."""
    running = {c["current_run_id"]: c for c in cards
               if c["status"] == "running" and c.get("current_run_id") is not None}
    found: dict[int, dict[str, Any]] = {}
    if running:
        with ctx.store.read() as conn:
            found = store_usage.activity(conn, list(running))
    for c in cards:
        c["activity"] = None
    for rid, c in running.items():
        c["activity"] = found.get(rid) or {"note": None, "note_at": None, "progress": None}
