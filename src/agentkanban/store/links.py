"""Parent -> child link rows."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

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


def remove(conn: Connection, parent_id: str, child_id: str) -> bool:
    res = conn.execute(delete(task_links).where(task_links.c.parent_id == parent_id,
                                                task_links.c.child_id == child_id))
    return res.rowcount == 1
