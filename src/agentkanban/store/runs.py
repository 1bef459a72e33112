"""Run rows: one per attempt at a task."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..domain.models import Run
from .rows import dumps, to_run
from .schema import runs, tasks


def open_run(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(runs).values(**values).returning(runs.c.id)).scalar_one())


def get(conn: Connection, run_id: int) -> Run | None:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
    return to_run(row) if row else None


def token_hash(conn: Connection, run_id: int) -> str | None:
    return conn.execute(select(runs.c.token_hash).where(runs.c.id == run_id)).scalar()


def for_task(conn: Connection, task_id: str) -> list[Run]:
    q = select(runs).where(runs.c.task_id == task_id).order_by(runs.c.id)
    return [to_run(r) for r in conn.execute(q)]


def close(conn: Connection, run_id: int, *, outcome: str, now: float, summary: str | None = None,
          metadata: dict[str, Any] | None = None, error: str | None = None) -> bool:
    """End an open run; False when it was already closed (someone else ended it first)."""
    res = conn.execute(
        update(runs).where(runs.c.id == run_id, runs.c.ended_at.is_(None))
        .values(status=outcome, outcome=outcome, ended_at=now, summary=summary,
                metadata=dumps(metadata), error=error, claim_expires=None)
    )
    return res.rowcount == 1


def set_fields(conn: Connection, run_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(runs).where(runs.c.id == run_id).values(**values))


def open_runs(conn: Connection, board: str | None = None) -> list[tuple[Run, str]]:
    """Open runs with their task's board."""
    q = select(runs).where(runs.c.ended_at.is_(None))
    if board is not None:
        q = q.where(runs.c.board == board)
    return [(to_run(r), r._mapping["board"]) for r in conn.execute(q.order_by(runs.c.id))]


def recent_by_profile(conn: Connection, profile: str, exclude_task: str, limit: int = 5) -> list[Run]:
    q = (select(runs).where(runs.c.profile == profile, runs.c.outcome == "completed",
                            runs.c.task_id != exclude_task)
         .order_by(runs.c.ended_at.desc()).limit(limit))
    return [to_run(r) for r in conn.execute(q)]


def latest_completed(conn: Connection, task_ids: list[str]) -> dict[str, Run]:
    if not task_ids:
        return {}
    q = (select(runs).where(runs.c.task_id.in_(task_ids), runs.c.outcome == "completed")
         .order_by(runs.c.id))
    return {r._mapping["task_id"]: to_run(r) for r in conn.execute(q)}


def running_count(conn: Connection, board: str | None = None, profile: str | None = None) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(runs).where(runs.c.ended_at.is_(None))
    if board is not None:
        q = q.where(runs.c.board == board)
    if profile is not None:
        q = q.where(runs.c.profile == profile)
    return int(conn.execute(q).scalar_one())


def task_board(conn: Connection, task_id: str) -> str | None:
    return conn.execute(select(tasks.c.board).where(tasks.c.id == task_id)).scalar()
