"""Reads behind "why is this task not moving": a page of cards costs a few queries, not one each."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from ..domain import events as ev
from .schema import events, task_links
from .tasks import _PARENT, _SATISFIED

CHUNK = 500

# Built once (building a statement costs SQLAlchemy more than SQLite takes to run it).
_OPEN_PARENTS = (
    select(task_links.c.child_id, _PARENT.c.id, _PARENT.c.title, _PARENT.c.status)
    .join(_PARENT, _PARENT.c.id == task_links.c.parent_id)
    .where(task_links.c.child_id.in_(bindparam("b_ids", expanding=True)),
           _PARENT.c.status.not_in(_SATISFIED))
    .order_by(task_links.c.child_id, _PARENT.c.id))
_LAST = (select(func.max(events.c.id).label("eid"))
         .where(events.c.task_id.in_(bindparam("b_ids", expanding=True)),
                events.c.kind.in_((ev.BLOCKED, ev.GAVE_UP)))
         .group_by(events.c.task_id).subquery())
_LAST_BLOCKS = select(events.c.task_id, events.c.kind, events.c.payload).join(_LAST, events.c.id == _LAST.c.eid)


def open_parents(conn: Connection, child_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """``child -> [(parent id, title, status)]`` of the parents not yet done, by parent id."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for i in range(0, len(child_ids), CHUNK):
        for child, pid, title, status in conn.execute(_OPEN_PARENTS, {"b_ids": child_ids[i:i + CHUNK]}):
            out.setdefault(child, []).append((pid, title, status))
    return out


def last_blocks(conn: Connection, task_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``task -> (kind, payload)`` of the newest ``blocked`` or ``gave_up`` event of each task."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for i in range(0, len(task_ids), CHUNK):
        for tid, kind, payload in conn.execute(_LAST_BLOCKS, {"b_ids": task_ids[i:i + CHUNK]}):
            try:
                data = json.loads(payload) if payload else {}
            except ValueError:
                data = {}
            out[tid] = (kind, data if isinstance(data, dict) else {})
    return out
