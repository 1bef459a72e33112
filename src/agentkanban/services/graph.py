"""Dependency edges of many tasks at once, for listings that show the graph (agents, exports)."""

from __future__ import annotations

from collections.abc import Iterable

from ..store import tasks as store_tasks
from .base import Ctx


def edges(ctx: Ctx, task_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """``{task_id: {"parents": [...], "children": [...]}}`` read in one transaction."""
    out: dict[str, dict[str, list[str]]] = {}
    with ctx.store.read() as conn:
        for tid in dict.fromkeys(task_ids):
            out[tid] = {"parents": store_tasks.parent_ids(conn, tid),
                        "children": store_tasks.child_ids(conn, tid)}
    return out
