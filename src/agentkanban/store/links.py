"""Parent -> child link rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, union

from . import dialect
from .schema import task_links


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


def remove(conn: Connection, parent_id: str, child_id: str) -> bool:
    res = conn.execute(delete(task_links).where(task_links.c.parent_id == parent_id,
                                                task_links.c.child_id == child_id))
    return res.rowcount == 1
