"""Reads behind "why is this task not moving": a page of cards costs a few queries, not one each."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from ..domain import events as ev
from .schema import events, task_links
from .tasks import _PARENT, _SATISFIED

CHUNK = 500


def open_parents(conn: Connection, child_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """``child -> [(parent id, title, status)]`` of the parents not yet done, by parent id."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    parent = _PARENT
    for i in range(0, len(child_ids), CHUNK):
        q = (select(task_links.c.child_id, parent.c.id, parent.c.title, parent.c.status)
             .join(parent, parent.c.id == task_links.c.parent_id)
             .where(task_links.c.child_id.in_(child_ids[i:i + CHUNK]),
                    parent.c.status.not_in(_SATISFIED))
             .order_by(task_links.c.child_id, parent.c.id))
        for child, pid, title, status in conn.execute(q):
            out.setdefault(child, []).append((pid, title, status))
    return out


def last_blocks(conn: Connection, task_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``task -> (kind, payload)`` of the newest ``blocked`` or ``gave_up`` event of each task."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    kinds = (ev.BLOCKED, ev.GAVE_UP)
    for i in range(0, len(task_ids), CHUNK):
        last = (select(func.max(events.c.id).label("eid"))
                .where(events.c.task_id.in_(task_ids[i:i + CHUNK]), events.c.kind.in_(kinds))
                .group_by(events.c.task_id).subquery())
        q = (select(events.c.task_id, events.c.kind, events.c.payload)
             .join(last, events.c.id == last.c.eid))
        for tid, kind, payload in conn.execute(q):
            try:
                data = json.loads(payload) if payload else {}
            except ValueError:
                data = {}
            out[tid] = (kind, data if isinstance(data, dict) else {})
    return out

