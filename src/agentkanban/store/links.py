"""Parent -> child link rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, union

from . import dialect
from .schema import task_links, tasks


def add(conn: Connection, parent_id: str, child_id: str) -> bool:
    return dialect.insert_ignore(conn, task_links, {"parent_id": parent_id, "child_id": child_id},
                                 ["parent_id", "child_id"]) == 1


_INSERT = insert(task_links)


def add_parents(conn: Connection, parent_ids: list[str], child_id: str) -> None:
    """Links from each of ``parent_ids`` to a task created in this transaction (so none exist)."""
    rows = [{"parent_id": pid, "child_id": child_id} for pid in dict.fromkeys(parent_ids)]
    if rows:
        conn.execute(_INSERT, rows)


_IDS: Any = bindparam("b_ids", expanding=True)
# Two indexed halves: with one ``OR`` the planner may scan every link of the database.
_TOUCHING = union(
    select(task_links.c.parent_id, task_links.c.child_id).where(task_links.c.parent_id.in_(_IDS)),
    select(task_links.c.parent_id, task_links.c.child_id).where(task_links.c.child_id.in_(_IDS)))
_INTO = select(task_links.c.parent_id, task_links.c.child_id).where(task_links.c.child_id.in_(_IDS))


def touching(conn: Connection, task_ids: list[str]) -> set[tuple[str, str]]:
    """Every ``(parent, child)`` link with one of ``task_ids`` at either end."""
    return _edges(conn, _TOUCHING, task_ids)


def into(conn: Connection, child_ids: list[str]) -> set[tuple[str, str]]:
    """Every ``(parent, child)`` link whose child is one of ``child_ids``."""
    return _edges(conn, _INTO, child_ids)


def _edges(conn: Connection, stmt: Any, ids: list[str], chunk: int = 2000) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for i in range(0, len(ids), chunk):
        out.update((p, c) for p, c in conn.execute(stmt, {"b_ids": ids[i:i + chunk]}))
    return out


# One level of the dependency view: the links from the frontier (``near``) to the next level
# (``far``), each with the far task's fields. Ordered by ``near`` alone, the order of the index
# that finds the links (the primary key for children, ix_task_links_child for parents), and with
# no condition on the tasks' board (a link never crosses boards; the caller's board is checked on
# the rows): the database reads the links first and each task by its id, and LIMIT stops the read
# early. (Ordered by ``far`` too, or filtered by board, SQLite would rather walk the board's tasks.)
def _step(near: Any, far: Any) -> Any:
    return (select(near, far, tasks.c.title, tasks.c.status, tasks.c.assignee, tasks.c.board)
            .join(tasks, tasks.c.id == far)
            .where(near.in_(_IDS))
            .order_by(near).limit(bindparam("b_limit")))


_UP = _step(task_links.c.child_id, task_links.c.parent_id)
_DOWN = _step(task_links.c.parent_id, task_links.c.child_id)

# (near, far, title, status, assignee, board)
Step = tuple[str, str, str, str, str | None, str]


def step(conn: Connection, board: str, frontier: list[str], *, up: bool, limit: int) -> list[Step]:
    """At most ``limit`` links from ``frontier`` to its parents (``up``) or children on ``board``,
    each with the task at the other end: one statement, whatever the size of the board."""
    if not frontier:
        return []
    rows = conn.execute(_UP if up else _DOWN, {"b_ids": sorted(frontier), "b_limit": limit})
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows if r[5] == board]


def remove(conn: Connection, parent_id: str, child_id: str) -> bool:
    res = conn.execute(delete(task_links).where(task_links.c.parent_id == parent_id,
                                                task_links.c.child_id == child_id))
    return res.rowcount == 1
