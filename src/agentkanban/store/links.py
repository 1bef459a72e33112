"""Parent -> child link rows."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from . import dialect
from .schema import task_links


def add(conn: Connection, parent_id: str, child_id: str) -> bool:
    return dialect.insert_ignore(conn, task_links, {"parent_id": parent_id, "child_id": child_id},
                                 ["parent_id", "child_id"]) == 1


def remove(conn: Connection, parent_id: str, child_id: str) -> bool:
    res = conn.execute(delete(task_links).where(task_links.c.parent_id == parent_id,
                                                task_links.c.child_id == child_id))
    return res.rowcount == 1
