"""The dashboard's paged board: one page of one column, exact counts, and what the cards need.

Each read is bounded by the page, not the board: a column's page is an index range in the
column's order (``ix_tasks_board_status_page``, ``ix_tasks_board_status_recent``), the links and
comment counts are read for the page's tasks only, and the tenant and assignee lists are read as
a loose index scan (one index probe per distinct value). The counts per column are the board's
tallies (kept by triggers); with a search or a filter they are exact too, at the price of
counting the matching rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, text

from ..domain.statuses import Status
from . import tallies
from .filters import Filters, conditions
from .rows import plain_rows
from .schema import comments, task_links, tasks

# Done and archived read newest first (most recently finished or archived); the others in the
# seed's board order, priority then age.
RECENT_FIRST = frozenset({Status.DONE.value, Status.ARCHIVED.value})


def _where(board: str, *, tenant: str | None, assignee: str | None, q: str | None,
           extra: Filters | None = None) -> list[Any]:
    conds: list[Any] = [tasks.c.board == board, *conditions(extra)]
    if tenant:
        conds.append(tasks.c.tenant == tenant)
    if assignee is not None:
        conds.append(tasks.c.assignee == assignee if assignee else tasks.c.assignee.is_(None))
    for word in (q or "").lower().split():
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(or_(*(func.lower(c).like(like, escape="\\") for c in (
            tasks.c.id, tasks.c.title, tasks.c.body, tasks.c.assignee, tasks.c.tenant,
            tasks.c.result))))
    return conds


def column_rows(conn: Connection, board: str, status: str, *, offset: int, limit: int,
                tenant: str | None = None, assignee: str | None = None,
                q: str | None = None, extra: Filters | None = None, by_due: bool = False,
                ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One page of one column, in the column's order (``by_due``: soonest due first, then the
    column's own order; tasks with no due date last)."""
    order = ([tasks.c.updated_at.desc(), tasks.c.id.desc()] if status in RECENT_FIRST
             else [tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id])
    if by_due:
        order = [tasks.c.due_at.is_(None), tasks.c.due_at, *order]
    stmt = (select(tasks).where(*_where(board, tenant=tenant, assignee=assignee, q=q, extra=extra),
                                tasks.c.status == status)
            .order_by(*order).offset(offset).limit(limit))
    return plain_rows(conn.execute(stmt))


def counts(conn: Connection, board: str, statuses: list[str], *, tenant: str | None = None,
           assignee: str | None = None, q: str | None = None,
           extra: Filters | None = None) -> dict[str, int]:
    """Exact number of tasks per column: from the board's tallies when nothing filters the board,
    else one index-range count each."""
    where = _where(board, tenant=tenant, assignee=assignee, q=q, extra=extra)
    if len(where) == 1:
        kept = tallies.statuses(conn, board)
        return {status: kept.get(status, 0) for status in statuses}
    out = {}
    for status in statuses:
        stmt = select(func.count()).select_from(tasks).where(*where, tasks.c.status == status)
        out[status] = int(conn.execute(stmt).scalar_one())
    return out


_IDS: Any = bindparam("b_ids", expanding=True)
# Each an index lookup by id on any backend (joined to tasks, PostgreSQL may plan a hash join over
# the whole table instead: 20-180 ms at 100,000 tasks).
_EDGES = [select(task_links.c.parent_id, task_links.c.child_id).where(side.in_(_IDS))
          for side in (task_links.c.parent_id, task_links.c.child_id)]
_STATUS_OF = select(tasks.c.id, tasks.c.status).where(tasks.c.id.in_(_IDS))
_COMMENTS = (select(comments.c.task_id, func.count()).where(comments.c.task_id.in_(_IDS))
             .group_by(comments.c.task_id))


def links_of(conn: Connection, ids: list[str]) -> list[tuple[str, str, str]]:
    """``(parent, child, child_status)`` of every link with one of ``ids`` at either end."""
    if not ids:
        return []
    edges: set[tuple[str, str]] = set()
    for stmt in _EDGES:
        edges.update((p, c) for p, c in conn.execute(stmt, {"b_ids": ids}))
    children = sorted({c for _p, c in edges})
    status: dict[str, str] = {}
    for i in range(0, len(children), 2000):
        status.update((tid, st) for tid, st in conn.execute(_STATUS_OF, {"b_ids": children[i:i + 2000]}))
    return sorted((p, c, status[c]) for p, c in edges if c in status)


def comment_counts(conn: Connection, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    return {tid: n for tid, n in conn.execute(_COMMENTS, {"b_ids": ids})}


# A loose index scan: each step finds the next value with one probe of the (board, column) index,
# so the cost is the number of distinct values, not the number of tasks.
_DISTINCT = """
WITH RECURSIVE d(v) AS (
    SELECT min({col}) FROM tasks WHERE board = :board AND {col} IS NOT NULL
    UNION ALL
    SELECT (SELECT min({col}) FROM tasks WHERE board = :board AND {col} > d.v)
    FROM d WHERE d.v IS NOT NULL
)
SELECT v FROM d WHERE v IS NOT NULL {live} LIMIT :most
"""
_LIVE = ("AND EXISTS (SELECT 1 FROM tasks WHERE board = :board AND {col} = d.v "
         "AND status != 'archived')")
_DISTINCT_SQL = {(col, live): text(_DISTINCT.format(col=col, live=_LIVE.format(col=col) if live else ""))
                 for col in ("tenant", "assignee") for live in (False, True)}


def distinct(conn: Connection, board: str, column: str, *, live_only: bool = False,
             most: int = 1000) -> list[str]:
    """The distinct non-null values of ``column`` (tenant or assignee) on the board, in order;
    ``live_only`` keeps the values some non-archived task has."""
    stmt = _DISTINCT_SQL[(column, live_only)]
    return [v for (v,) in conn.execute(stmt, {"board": board, "most": most})]
