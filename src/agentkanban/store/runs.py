"""Run rows: one per attempt at a task."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ..domain.models import Run
from .rows import dumps, to_run
from .schema import runs


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


_CLOSE_MANY = update(runs).where(runs.c.id.in_(bindparam("b_ids", expanding=True)),
                                 runs.c.ended_at.is_(None))
_OPEN_MANY = insert(runs).returning(runs.c.id)  # ids in row order: see store.events._INSERT_MANY


def close_many(conn: Connection, run_ids: list[int], *, outcome: str, now: float,
               summary: str | None = None, metadata: dict[str, Any] | None = None,
               error: str | None = None) -> None:
    """:func:`close` for many runs ending the same way (those already closed stay as they are)."""
    for i in range(0, len(run_ids), 2000):
        conn.execute(_CLOSE_MANY, {
            "b_ids": run_ids[i:i + 2000], "status": outcome, "outcome": outcome, "ended_at": now,
            "summary": summary, "metadata": dumps(metadata), "error": error, "claim_expires": None})


def open_many(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert runs (all with the same columns); their ids in the order given."""
    if not rows:
        return []
    return sorted(int(i) for i in conn.execute(_OPEN_MANY, rows).scalars())


def set_fields(conn: Connection, run_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(runs).where(runs.c.id == run_id).values(**values))


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


def running_count(conn: Connection, board: str | None = None, profile: str | None = None,
                  profiles: list[str] | None = None) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(runs).where(runs.c.ended_at.is_(None))
    if board is not None:
        q = q.where(runs.c.board == board)
    if profile is not None:
        q = q.where(runs.c.profile == profile)
    if profiles is not None:
        q = q.where(runs.c.profile.in_(profiles))
    return int(conn.execute(q).scalar_one())


def open_for_board(conn: Connection, board: str) -> list[Run]:
    """Open attempts of one board (served by the ``(board, status)`` index: open runs are 'running')."""
    q = (select(runs).where(runs.c.board == board, runs.c.status == "running",
                            runs.c.ended_at.is_(None))
         .order_by(runs.c.id))
    return [to_run(r) for r in conn.execute(q)]


def open_all(conn: Connection) -> list[tuple[str, str, str]]:
    """``(profile, board, task_id)`` of every open attempt on every board, oldest first."""
    q = (select(runs.c.profile, runs.c.board, runs.c.task_id)
         .where(runs.c.status == "running", runs.c.ended_at.is_(None)).order_by(runs.c.id))
    return [(p or "", b, t) for p, b, t in conn.execute(q)]


def open_counts(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Open attempts counted per profile (all boards) and per board."""
    from sqlalchemy import func

    q = (select(runs.c.board, runs.c.profile, func.count())
         .where(runs.c.status == "running", runs.c.ended_at.is_(None))
         .group_by(runs.c.board, runs.c.profile))
    by_profile: dict[str, int] = {}
    by_board: dict[str, int] = {}
    for board, profile, n in conn.execute(q):
        by_profile[profile or ""] = by_profile.get(profile or "", 0) + n
        by_board[board] = by_board.get(board, 0) + n
    return by_profile, by_board


def last_closed(conn: Connection, task_ids: list[str]) -> dict[str, Run]:
    """The most recent closed attempt of each task."""
    if not task_ids:
        return {}
    q = (select(runs).where(runs.c.task_id.in_(task_ids), runs.c.ended_at.is_not(None))
         .order_by(runs.c.id))
    return {r._mapping["task_id"]: to_run(r) for r in conn.execute(q)}


def last_of(conn: Connection, task_ids: list[str]) -> dict[str, Run]:
    """The most recent attempt of each task, open or closed."""
    if not task_ids:
        return {}
    q = select(runs).where(runs.c.task_id.in_(task_ids)).order_by(runs.c.id)
    return {r._mapping["task_id"]: to_run(r) for r in conn.execute(q)}


def get_many(conn: Connection, run_ids: list[int]) -> dict[int, Run]:
    if not run_ids:
        return {}
    return {int(r._mapping["id"]): to_run(r)
            for r in conn.execute(select(runs).where(runs.c.id.in_(run_ids)))}
