"""Reads behind "why is this task not moving": a page of cards costs a few queries, not one each."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from ..domain import events as ev
from .schema import events, task_links, tasks
from .tasks import _SATISFIED

CHUNK = 500

# Built once (building a statement costs SQLAlchemy more than SQLite takes to run it). The links
# and the parents are read apart, each an index lookup by id: joined, PostgreSQL may plan a hash
# join over every task of the table instead (50 ms at 10,000 tasks against 2 ms).
_IDS: Any = bindparam("b_ids", expanding=True)
_PARENT_LINKS = select(task_links.c.child_id, task_links.c.parent_id).where(task_links.c.child_id.in_(_IDS))
_OPEN_BY_ID = (select(tasks.c.id, tasks.c.title, tasks.c.status)
               .where(tasks.c.id.in_(_IDS), tasks.c.status.not_in(_SATISFIED)))
_LAST = (select(func.max(events.c.id).label("eid"))
         .where(events.c.task_id.in_(bindparam("b_ids", expanding=True)),
                events.c.kind.in_((ev.BLOCKED, ev.GAVE_UP)))
         .group_by(events.c.task_id).subquery())
_LAST_BLOCKS = select(events.c.task_id, events.c.kind, events.c.payload).join(_LAST, events.c.id == _LAST.c.eid)


def open_parents(conn: Connection, child_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """``child -> [(parent id, title, status)]`` of the parents not yet done, by parent id."""
    links: list[tuple[str, str]] = []
    for i in range(0, len(child_ids), CHUNK):
        links += [(c, p) for c, p in conn.execute(_PARENT_LINKS, {"b_ids": child_ids[i:i + CHUNK]})]
    parent_ids = sorted({p for _c, p in links})
    open_ones: dict[str, tuple[str, str, str]] = {}
    for i in range(0, len(parent_ids), CHUNK):
        for pid, title, status in conn.execute(_OPEN_BY_ID, {"b_ids": parent_ids[i:i + CHUNK]}):
            open_ones[pid] = (pid, title, status)
    out: dict[str, list[tuple[str, str, str]]] = {}
    for child, pid in sorted(links):
        if pid in open_ones:
            out.setdefault(child, []).append(open_ones[pid])
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
