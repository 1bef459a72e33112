"""``kanban db check``: the backend's integrity check plus the board's own invariants.

Invariants: every running task has exactly one open run; no run is open on a task that is not
running; the dependency graph has no cycle; every link, run, comment and event names a task
that exists, and every task a board that exists.
"""

from __future__ import annotations

from typing import Any

from ..store import integrity as store
from .base import Ctx


def find_cycle(edges: list[tuple[str, str]]) -> list[str] | None:
    """One cycle of parent -> child edges as a list of ids, or None (iterative DFS)."""
    graph: dict[str, list[str]] = {}
    for parent, child in edges:
        graph.setdefault(parent, []).append(child)
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for root in graph:
        if state.get(root):
            continue
        path, stack = [root], [iter(graph.get(root, ()))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return None


def check(ctx: Ctx) -> dict[str, Any]:
    """``{"ok": bool, "backend": [...], "problems": [...]}``; read-only."""
    with ctx.store.read() as conn:
        backend = store.backend_check(conn)
        open_runs = store.open_runs_by_task(conn)
        states = store.task_states(conn)
        edges = store.links(conn)
        problems = store.dangling(conn)
    for task_id, (board, status) in sorted(states.items()):
        n = open_runs.get(task_id, 0)
        if status == "running" and n != 1:
            problems.append(f"task {task_id} ({board}) is running with {n} open runs (should be 1)")
        elif status != "running" and n:
            problems.append(f"task {task_id} ({board}) is {status} but has {n} open run(s)")
    cycle = find_cycle(edges)
    if cycle:
        problems.append("dependency cycle: " + " -> ".join(cycle))
    return {"ok": not backend and not problems, "backend": backend, "problems": problems,
            "tasks": len(states), "links": len(edges)}
