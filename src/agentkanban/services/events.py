"""Reading the event log: for ``watch``, ``tail``, the WebSocket and the notifier."""

from __future__ import annotations

from ..domain.models import Event
from ..store import events as store_events
from .base import Ctx


def since(ctx: Ctx, cursor: int, *, board: str | None = None, limit: int = 200,
          kinds: frozenset[str] | None = None, task_id: str | None = None) -> list[Event]:
    with ctx.store.read() as conn:
        return store_events.since(conn, cursor, board=board, limit=limit, kinds=kinds,
                                  task_id=task_id)


def latest_id(ctx: Ctx, board: str | None = None) -> int:
    with ctx.store.read() as conn:
        return store_events.max_id(conn, board)
