"""Reads behind the cards' attention flags and the parent's view of its children."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .schema import runs, task_links, tasks


def latest_summaries(conn: Connection, board: str, task_ids: list[str]) -> dict[str, str]:
    """``task_id -> summary`` of the latest completed run that left one, for these tasks of a
    board (a page of cards costs what the page holds, not what the board holds). For many ids
    (the seed's whole board) one pass over the board's runs is cheaper than lists of ids."""
    if len(task_ids) > 2000:
        return _board_summaries(conn, board)
    out: dict[str, str] = {}
    for i in range(0, len(task_ids), 2000):
        last = (select(runs.c.task_id, func.max(runs.c.id).label("rid"))
                .where(runs.c.board == board, runs.c.task_id.in_(task_ids[i:i + 2000]),
                       runs.c.outcome == "completed", runs.c.summary.is_not(None))
                .group_by(runs.c.task_id).subquery())
        q = select(runs.c.task_id, runs.c.summary).join(last, runs.c.id == last.c.rid)
        out.update((tid, summary) for tid, summary in conn.execute(q))
    return out


def _board_summaries(conn: Connection, board: str) -> dict[str, str]:
    last = (select(runs.c.task_id, func.max(runs.c.id).label("rid"))
            .where(runs.c.board == board, runs.c.outcome == "completed", runs.c.summary.is_not(None))
            .group_by(runs.c.task_id).subquery())
    q = select(runs.c.task_id, runs.c.summary).join(last, runs.c.id == last.c.rid)
    return {tid: summary for tid, summary in conn.execute(q)}


def latest_summary(conn: Connection, task_id: str) -> str | None:
    q = (select(runs.c.summary).where(runs.c.task_id == task_id, runs.c.outcome == "completed",
                                      runs.c.summary.is_not(None))
         .order_by(runs.c.id.desc()).limit(1))
    return conn.execute(q).scalar()


def children(conn: Connection, parent_id: str) -> list[dict[str, Any]]:
    """The children of a task with what each produced (result, latest run summary)."""
    last = (select(runs.c.task_id, func.max(runs.c.id).label("rid"))
            .where(runs.c.outcome == "completed", runs.c.summary.is_not(None))
            .group_by(runs.c.task_id).subquery())
    summary = select(runs.c.task_id, runs.c.summary).join(last, runs.c.id == last.c.rid).subquery()
    q = (select(tasks.c.id, tasks.c.title, tasks.c.status, tasks.c.assignee, tasks.c.result,
                summary.c.summary.label("latest_summary"))
         .join(task_links, task_links.c.child_id == tasks.c.id)
         .outerjoin(summary, summary.c.task_id == tasks.c.id)
         .where(task_links.c.parent_id == parent_id)
         .order_by(tasks.c.created_at, tasks.c.id))
    return [{str(k): v for k, v in r._asdict().items()} for r in conn.execute(q)]
