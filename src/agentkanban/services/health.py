"""Liveness of the background loops, shared between processes through the database."""

from __future__ import annotations

import json
from typing import Any

from ..store import kv
from .base import Ctx

DISPATCHER_KEY = "dispatcher:last_tick"
# A dispatcher that has not ticked for this many intervals (at least this many seconds) is gone.
STALE_AFTER_SECONDS = 30.0


def record_dispatcher_tick(ctx: Ctx, info: dict[str, Any] | None = None) -> None:
    with ctx.store.write() as tx:
        kv.put(tx.conn, DISPATCHER_KEY, json.dumps(info or {}), ctx.now())


def dispatcher_status(ctx: Ctx) -> dict[str, Any] | None:
    """``{"last_tick": ts, "age_seconds": s, "alive": bool, ...info}`` or None if never ticked."""
    with ctx.store.read() as conn:
        row = kv.get(conn, DISPATCHER_KEY)
    if row is None:
        return None
    value, ts = row
    age = max(0.0, ctx.now() - ts)
    interval = ctx.settings.dispatch.interval_seconds
    return {**json.loads(value), "last_tick": ts, "age_seconds": age,
            "alive": age <= max(STALE_AFTER_SECONDS, 5 * interval)}


def database_ok(ctx: Ctx) -> bool:
    try:
        with ctx.store.read() as conn:
            kv.get(conn, DISPATCHER_KEY)
        return True
    except Exception:
        return False
