"""Reading the event log: for ``watch``, ``tail``, the WebSocket, the notifier and the activity feed."""

from __future__ import annotations

from typing import Any

from ..domain.events import ALL_KINDS
from ..domain.models import Event
from ..errors import ValidationError
from ..store import events as store_events
from .base import Ctx
from .common import clean_assignee, resolve_in


def since(ctx: Ctx, cursor: int, *, board: str | None = None, limit: int = 200,
          kinds: frozenset[str] | None = None, task_id: str | None = None) -> list[Event]:
    with ctx.store.read() as conn:
        return store_events.since(conn, cursor, board=board, limit=limit, kinds=kinds,
                                  task_id=task_id)


def latest_id(ctx: Ctx, board: str | None = None) -> int:
    with ctx.store.read() as conn:
        return store_events.max_id(conn, board)


ACTIVITY_MAX = 200


def activity(ctx: Ctx, board: str, *, task_id: str | None = None, profile: str | None = None,
             kinds: list[str] | None = None, before: int | None = None,
             limit: int = 50) -> dict[str, Any]:
    """The board's activity feed, newest first: who did what to which task, filterable by task,
    profile and kind; ``next_before`` pages further back (None at the start of the log)."""
    if not 1 <= limit <= ACTIVITY_MAX:
        raise ValidationError(f"limit must be from 1 to {ACTIVITY_MAX}")
    unknown = sorted(set(kinds or ()) - ALL_KINDS)
    if unknown:
        raise ValidationError(f"unknown event kind(s) {', '.join(unknown)}; use: "
                              f"{', '.join(sorted(ALL_KINDS))}")
    who = clean_assignee(profile) if profile else None
    with ctx.store.read() as conn:
        tid = resolve_in(conn, board, task_id) if task_id else None
        rows = store_events.recent(conn, board, before=before, task_id=tid, profile=who,
                                   kinds=kinds, limit=limit)
    items = [{**e.to_dict(), "title": title} for e, title in rows]
    return {"events": items, "next_before": items[-1]["id"] if len(items) == limit else None}
