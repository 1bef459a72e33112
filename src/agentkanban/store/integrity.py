"""Reads for ``kanban db check`` and ``kanban doctor``: the backend's own check and our invariants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, select

from . import dialect
from .schema import boards, comments, deliveries, events, runs, task_links, tasks


def backend_check(conn: Connection) -> list[str]:
    """Problems the database engine itself reports (empty: none)."""
    if dialect.is_sqlite(conn):
        problems = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {r[0]} row {r[1]} points at a missing {r[2]} row"
                     for r in conn.exec_driver_sql("PRAGMA foreign_key_check")]
        return problems
    # PostgreSQL checks pages as it reads them (with data checksums on); reading every table
    # once makes it look at each heap page.
    for table in (boards, tasks, task_links, runs, events, comments, deliveries):
        conn.execute(select(func.count()).select_from(table))
    return []


def open_runs_by_task(conn: Connection) -> dict[str, int]:
    q = select(runs.c.task_id, func.count()).where(runs.c.ended_at.is_(None)).group_by(runs.c.task_id)
    return {t: n for t, n in conn.execute(q)}


def task_states(conn: Connection) -> dict[str, tuple[str, str]]:
    """id -> (board, status) for every task."""
    return {i: (b, s) for i, b, s in conn.execute(select(tasks.c.id, tasks.c.board, tasks.c.status))}


def links(conn: Connection) -> list[tuple[str, str]]:
    return [(p, c) for p, c in conn.execute(select(task_links.c.parent_id, task_links.c.child_id))]


def dangling(conn: Connection) -> list[str]:
    """Rows that point at a task or board that does not exist (foreign keys off, or old copies)."""
    out = []
    for table, col in ((task_links, "parent_id"), (task_links, "child_id"), (runs, "task_id"),
                       (comments, "task_id"), (events, "task_id")):
        q = (select(func.count()).select_from(table.outerjoin(tasks, tasks.c.id == table.c[col]))
             .where(tasks.c.id.is_(None)))
        n = conn.execute(q).scalar_one()
        if n:
            out.append(f"{n} {table.name} row(s) whose {col} names no task")
    q = (select(func.count()).select_from(tasks.outerjoin(boards, boards.c.slug == tasks.c.board))
         .where(boards.c.slug.is_(None)))
    n = conn.execute(q).scalar_one()
    if n:
        out.append(f"{n} task(s) on a board that does not exist")
    return out


def running_tasks(conn: Connection) -> list[dict[str, Any]]:
    q = select(tasks.c.id, tasks.c.board, tasks.c.claim_expires, tasks.c.last_heartbeat_at,
               tasks.c.worker_pid, tasks.c.title).where(tasks.c.status == "running")
    return [dict(r._mapping) for r in conn.execute(q)]


def ready_assignees(conn: Connection) -> list[tuple[str, str, str | None]]:
    q = select(tasks.c.id, tasks.c.board, tasks.c.assignee).where(tasks.c.status == "ready")
    return [(i, b, a) for i, b, a in conn.execute(q)]


def repeat_failures(conn: Connection, min_failures: int) -> list[dict[str, Any]]:
    q = select(tasks.c.id, tasks.c.board, tasks.c.consecutive_failures, tasks.c.last_failure_error,
               tasks.c.status).where(tasks.c.consecutive_failures >= min_failures,
                                     tasks.c.status != "archived")
    return [dict(r._mapping) for r in conn.execute(q)]


def last_errors(conn: Connection, task_id: str, n: int) -> list[str | None]:
    q = (select(runs.c.error).where(runs.c.task_id == task_id, runs.c.ended_at.is_not(None))
         .order_by(runs.c.id.desc()).limit(n))
    return [r[0] for r in conn.execute(q)]


def quiet_blocked(conn: Connection, before: float) -> list[dict[str, Any]]:
    """Blocked tasks with no event (comment, edit, ...) since ``before``."""
    last = (select(events.c.task_id, func.max(events.c.created_at).label("at"))
            .group_by(events.c.task_id).subquery())
    q = (select(tasks.c.id, tasks.c.board, tasks.c.title, last.c.at)
         .select_from(tasks.outerjoin(last, last.c.task_id == tasks.c.id))
         .where(tasks.c.status == "blocked", func.coalesce(last.c.at, tasks.c.updated_at) < before))
    return [dict(r._mapping) for r in conn.execute(q)]


def failing_deliveries(conn: Connection, min_attempts: int) -> list[dict[str, Any]]:
    q = (select(deliveries.c.platform, deliveries.c.chat_id, deliveries.c.status,
                func.count().label("n"), func.max(deliveries.c.last_error).label("error"))
         .where(and_(deliveries.c.last_error.is_not(None),
                     (deliveries.c.status == "failed") | (deliveries.c.attempts >= min_attempts)))
         .group_by(deliveries.c.platform, deliveries.c.chat_id, deliveries.c.status))
    return [dict(r._mapping) for r in conn.execute(q)]
