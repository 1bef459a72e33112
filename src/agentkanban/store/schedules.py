"""Recurring schedules: rows as plain dicts (the service owns their meaning)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .schema import schedules, tasks


def insert_schedule(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(schedules).values(**values))


def get(conn: Connection, schedule_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
    return dict(row._mapping) if row else None


def list_for(conn: Connection, board: str | None) -> list[dict[str, Any]]:
    q = select(schedules).order_by(schedules.c.created_at, schedules.c.id)
    if board is not None:
        q = q.where(schedules.c.board == board)
    return [dict(r._mapping) for r in conn.execute(q)]


def due(conn: Connection, now: float) -> list[dict[str, Any]]:
    q = (select(schedules).where(schedules.c.paused == 0, schedules.c.next_at <= now)
         .order_by(schedules.c.next_at))
    return [dict(r._mapping) for r in conn.execute(q)]


def set_fields(conn: Connection, schedule_id: str, values: dict[str, Any]) -> bool:
    res = conn.execute(update(schedules).where(schedules.c.id == schedule_id).values(**values))
    return res.rowcount > 0


def advance(conn: Connection, schedule_id: str, expected: float | None, values: dict[str, Any]) -> bool:
    """Move the occurrence cursor only if nobody moved it since we read ``expected``."""
    cond = (schedules.c.last_occurrence.is_(None) if expected is None
            else schedules.c.last_occurrence == expected)
    res = conn.execute(update(schedules).where(schedules.c.id == schedule_id, cond).values(**values))
    return res.rowcount > 0


def remove(conn: Connection, schedule_id: str) -> bool:
    return conn.execute(delete(schedules).where(schedules.c.id == schedule_id)).rowcount > 0


def task_status(conn: Connection, task_id: str) -> str | None:
    return conn.execute(select(tasks.c.status).where(tasks.c.id == task_id)).scalar()


def task_by_key(conn: Connection, board: str, key: str) -> str | None:
    """A task made for this key, archived ones included (their key no longer blocks a new one)."""
    return conn.execute(select(tasks.c.id).where(tasks.c.board == board,
                                                 tasks.c.idempotency_key == key).limit(1)).scalar()
