"""Scheduled tasks whose start time has come."""

from __future__ import annotations

from sqlalchemy import Connection, select

from ..domain.statuses import Status
from .schema import tasks


def due(conn: Connection, board: str, now: float) -> list[str]:
    q = (select(tasks.c.id)
         .where(tasks.c.board == board, tasks.c.status == Status.SCHEDULED.value,
                tasks.c.scheduled_at <= now)
         .order_by(tasks.c.scheduled_at, tasks.c.id))
    return list(conn.execute(q).scalars())
