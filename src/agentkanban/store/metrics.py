"""Aggregate reads for ``/metrics``: each one query, grouped in the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from .schema import deliveries, events, runs, schedules, tasks, usage_daily


def runs_ended(conn: Connection) -> list[tuple[str | None, str | None, int]]:
    q = (select(runs.c.profile, runs.c.outcome, func.count()).where(runs.c.ended_at.is_not(None))
         .group_by(runs.c.profile, runs.c.outcome))
    return [(p, o, n) for p, o, n in conn.execute(q)]


def attempt_durations(conn: Connection, bounds: Sequence[float]) -> list[tuple[Any, ...]]:
    """Per profile: (profile, count <= each bound..., total count, sum of seconds)."""
    dur = runs.c.ended_at - runs.c.started_at
    cols = [func.sum(case((dur <= b, 1), else_=0)) for b in bounds]
    q = (select(runs.c.profile, *cols, func.count(), func.sum(dur))
         .where(runs.c.ended_at.is_not(None)).group_by(runs.c.profile))
    return [tuple(r) for r in conn.execute(q)]


def oldest_ready(conn: Connection) -> list[tuple[str, float]]:
    q = (select(tasks.c.board, func.min(tasks.c.updated_at)).where(tasks.c.status == "ready")
         .group_by(tasks.c.board))
    return [(b, t) for b, t in conn.execute(q)]


def over_runtime(conn: Connection, now: float) -> list[tuple[str, int]]:
    """Open attempts past their maximum runtime, by board."""
    q = (select(runs.c.board, func.count())
         .where(runs.c.ended_at.is_(None), runs.c.max_runtime_seconds.is_not(None),
                runs.c.started_at + runs.c.max_runtime_seconds < now)
         .group_by(runs.c.board))
    return [(b, n) for b, n in conn.execute(q)]


def deliveries_by(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(platform, status, count, count with an error) for unfinished and failed deliveries."""
    q = (select(deliveries.c.platform, deliveries.c.status, func.count(),
                func.sum(case((deliveries.c.last_error.is_not(None), 1), else_=0)))
         .group_by(deliveries.c.platform, deliveries.c.status))
    return [(p, s, n, int(e or 0)) for p, s, n, e in conn.execute(q)]


READYING = ("created", "promoted", "unblocked", "status", "reclaimed", "crashed", "timed_out",
            "rate_limited", "spawn_failed", "protocol_violation")


def claim_latencies(conn: Connection, after_id: int, limit: int = 5000) -> list[tuple[int, float]]:
    """(claimed event id, seconds since the task last became claimable) for claims after ``after_id``."""
    prev = events.alias("prev")
    became = (select(func.max(prev.c.created_at))
              .where(and_(prev.c.task_id == events.c.task_id, prev.c.id < events.c.id,
                          prev.c.kind.in_(READYING)))
              .scalar_subquery())
    q = (select(events.c.id, events.c.created_at - became)
         .where(events.c.id > after_id, events.c.kind == "claimed")
         .order_by(events.c.id).limit(limit))
    return [(i, float(d or 0.0)) for i, d in conn.execute(q)]


def schedule_counts(conn: Connection) -> list[tuple[str, int, int, int]]:
    """(board, paused, count, occurrences skipped while the previous task was open)."""
    q = (select(schedules.c.board, schedules.c.paused, func.count(), func.sum(schedules.c.skipped))
         .group_by(schedules.c.board, schedules.c.paused))
    return [(b, int(p), n, int(s or 0)) for b, p, n, s in conn.execute(q)]


def usage_totals(conn: Connection) -> list[tuple[Any, ...]]:
    """``(board, profile, input, output, cache_read, cache_write, cost_usd)`` summed over every
    day, from the per-day rollup kept with each usage report (a few rows a day, whatever the ledger)."""
    u = usage_daily.c
    q = (select(u.board, u.profile, func.sum(u.input_tokens), func.sum(u.output_tokens),
                func.sum(u.cache_read_tokens), func.sum(u.cache_write_tokens), func.sum(u.cost_usd))
         .group_by(u.board, u.profile).order_by(u.board, u.profile))
    return [tuple(r) for r in conn.execute(q)]
