"""Liveness of the background loops, shared between processes through the database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..store import kv
from . import disk
from .base import Ctx

DISPATCHER_KEY = "dispatcher:last_tick"
NOTIFIER_KEY = "notifier:last_tick"
# A dispatcher that has not ticked for this many intervals (at least this many seconds) is gone.
STALE_AFTER_SECONDS = 30.0
# A notifier records that it is alive every NOTIFIER_HEARTBEAT_SECONDS; silent for a minute, gone.
NOTIFIER_HEARTBEAT_SECONDS = 10.0
NOTIFIER_STALE_AFTER_SECONDS = 60.0


def _record(ctx: Ctx, key: str, info: dict[str, Any]) -> None:
    with ctx.store.write() as tx:
        kv.put(tx.conn, key, json.dumps(info), ctx.now())


def _status(ctx: Ctx, key: str, stale_after: float) -> dict[str, Any] | None:
    """``{"last_tick": ts, "age_seconds": s, "alive": bool, ...info}`` or None if never recorded."""
    with ctx.store.read() as conn:
        row = kv.get(conn, key)
    if row is None:
        return None
    value, ts = row
    age = max(0.0, ctx.now() - ts)
    return {**json.loads(value), "last_tick": ts, "age_seconds": age, "alive": age <= stale_after}


def record_dispatcher_tick(ctx: Ctx, info: dict[str, Any] | None = None) -> None:
    _record(ctx, DISPATCHER_KEY, info or {})


def dispatcher_status(ctx: Ctx) -> dict[str, Any] | None:
    interval = ctx.settings.dispatch.interval_seconds
    return _status(ctx, DISPATCHER_KEY, max(STALE_AFTER_SECONDS, 5 * interval))


def record_notifier_alive(ctx: Ctx, platforms: Iterable[str]) -> None:
    """A running notifier says so (and what it can send to), for ``notify-list`` and the API."""
    _record(ctx, NOTIFIER_KEY, {"platforms": sorted(platforms)})


def notifier_status(ctx: Ctx) -> dict[str, Any] | None:
    """Like :func:`dispatcher_status`, with the ``platforms`` the notifier can send to."""
    limit = max(NOTIFIER_STALE_AFTER_SECONDS,
                3 * ctx.settings.notify.interval_seconds + NOTIFIER_HEARTBEAT_SECONDS)
    return _status(ctx, NOTIFIER_KEY, limit)


def database_ok(ctx: Ctx) -> bool:
    try:
        with ctx.store.read(wait=False) as conn:  # a health check answers now, never waits
            kv.get(conn, DISPATCHER_KEY)
        return True
    except Exception:
        return False


def open_attempts(ctx: Ctx) -> int:
    """Attempts still open on every board: their workers outlive a stopped server or dispatcher."""
    from ..store import runs

    with ctx.store.read() as conn:
        return runs.running_count(conn)


LOOPS = ("dispatcher", "notifier")


def report(ctx: Ctx, expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """Liveness of the database and of each background loop, for ``/healthz`` and ``kanban status``.

    ``expected`` names the loops that should be running, each mapped to a callable that says
    whether its thread is still alive in this process (or None when it runs elsewhere). A loop
    that should run is down when its thread died or its last pass is older than the bound; then
    ``ok`` is False (``/healthz`` answers 503) and ``status`` is ``failing``. With everything up but
    the disk short of room, ``ok`` is False too and ``status`` is ``degraded``. A loop that started
    and has not passed yet is up.
    """
    expected = expected or {}
    db = database_ok(ctx)
    out: dict[str, Any] = {"ok": db, "database": db}
    for name in LOOPS:
        status = (dispatcher_status(ctx) if name == "dispatcher" else notifier_status(ctx)) if db else None
        probe = expected.get(name)
        thread_alive = probe() if callable(probe) else None
        info: dict[str, Any] | None = None
        if status is not None:
            info = {k: status[k] for k in ("last_tick", "age_seconds", "alive")}
        if name in expected:
            alive = thread_alive is not False and (status["alive"] if status else thread_alive is True)
            info = {**(info or {"last_tick": None, "age_seconds": None}), "alive": alive,
                    "expected": True}
            if thread_alive is not None:
                info["thread_alive"] = thread_alive
            if not alive:
                out["ok"] = False
        out[name] = info
    room = disk.status(ctx)
    out["disk"] = room
    out["status"] = "ok" if out["ok"] and room["ok"] else "failing" if not out["ok"] else "degraded"
    out["ok"] = out["ok"] and room["ok"]
    return out
