"""Dependency edges of many tasks at once, for listings that show the graph (agents, exports),
and the dependency view: a task's ancestors and descendants a few levels each way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ValidationError
from ..store import links as store_links
from ..store import tasks as store_tasks
from .base import Ctx
from .common import load, resolve_in

MAX_DEPTH = 10
MAX_LIMIT = 500


def edges(ctx: Ctx, task_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """``{task_id: {"parents": [...], "children": [...]}}`` read in one transaction."""
    out: dict[str, dict[str, list[str]]] = {}
    with ctx.store.read() as conn:
        for tid in dict.fromkeys(task_ids):
            out[tid] = {"parents": store_tasks.parent_ids(conn, tid),
                        "children": store_tasks.child_ids(conn, tid)}
    return out


def graph(ctx: Ctx, board: str, task_id: str, *, depth: int = 3, limit: int = 200) -> dict[str, Any]:
    """The task's dependency graph: its ancestors up to ``depth`` levels above it and its
    descendants up to ``depth`` levels below, at most ``limit`` tasks in all (the task included).

    ``{root, nodes[]{id, title, status, assignee, board, depth}, edges[]{parent, child},
    truncated}``, nodes by depth then title. ``depth`` is negative for ancestors (-1: parents),
    0 for the task, positive for descendants; a task reached by paths of several lengths sits at
    the shortest. Walked breadth first, nearest levels first (parents, children, grandparents,
    ...), one statement per level over that level's tasks by the links' indexes, each answering
    at most ``limit + 1`` links: the cost follows what is drawn, never the board. ``truncated``:
    the graph goes on beyond what is returned (more tasks than ``limit``, or levels beyond
    ``depth``)."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValidationError(f"depth must be from 1 to {MAX_DEPTH}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be from 1 to {MAX_LIMIT}")
    with ctx.store.read() as conn:
        root = load(conn, board, resolve_in(conn, board, task_id))
        walk = _Walk(limit)
        walk.nodes[root.id] = {"id": root.id, "title": root.title, "status": root.status.value,
                               "assignee": root.assignee, "board": root.board, "depth": 0}
        frontier = {True: [root.id], False: [root.id]}  # up (ancestors), down (descendants)
        for level in range(1, depth + 2):
            for up in (True, False):
                if frontier[up]:
                    rows = store_links.step(conn, board, frontier[up], up=up, limit=limit + 1)
                    # One level past ``depth`` only says whether there is more (and draws the
                    # links between tasks already drawn).
                    frontier[up] = walk.take(rows, -level if up else level, up=up,
                                             grow=level <= depth)
    nodes = sorted(walk.nodes.values(), key=lambda n: (n["depth"], n["title"], n["id"]))
    return {"root": root.id, "nodes": nodes,
            "edges": [{"parent": p, "child": c} for p, c in sorted(walk.edges)],
            "truncated": walk.truncated}


class _Walk:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: set[tuple[str, str]] = set()
        self.truncated = False

    def take(self, rows: list[store_links.Step], depth: int, *, up: bool, grow: bool) -> list[str]:
        """Add one level's links and new tasks; returns the new tasks (the next frontier)."""
        if len(rows) > self.limit:
            self.truncated = True  # the statement stopped reading: links may be left out
        found: list[str] = []
        for near, far, title, status, assignee, board in rows:
            if far not in self.nodes:
                if not grow or len(self.nodes) >= self.limit:
                    self.truncated = True
                    continue
                self.nodes[far] = {"id": far, "title": title, "status": status,
                                   "assignee": assignee, "board": board, "depth": depth}
                found.append(far)
            self.edges.add((far, near) if up else (near, far))
        return found
