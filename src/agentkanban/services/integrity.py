"""``kanban db check``: the backend's integrity check plus the board's own invariants.

Invariants: every running task has exactly one open run; no run is open on a task that is not
running; the dependency graph has no cycle; the kept column and label counts (the tallies)
equal the tasks' own; every link, run, comment and event names a task
that exists, and every task a board that exists.
"""

from __future__ import annotations

from typing import Any

from ..store import integrity as store
from ..store import tallies
from .base import Ctx

TALLIES_OFF = ("board {board}: the kept column or label counts differ from its tasks "
               "(`kanban doctor --repair` recounts them)")


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
        kept_tallies = tallies.every_board(conn)
        counted = tallies.recount(conn)
    for task_id, (board, status) in sorted(states.items()):
        n = open_runs.get(task_id, 0)
        if status == "running" and n != 1:
            problems.append(f"task {task_id} ({board}) is running with {n} open runs (should be 1)")
        elif status != "running" and n:
            problems.append(f"task {task_id} ({board}) is {status} but has {n} open run(s)")
    off = sorted(b for b in set(kept_tallies) | set(counted)
                 if kept_tallies.get(b, ({}, {})) != counted.get(b, ({}, {})))
    problems += [TALLIES_OFF.format(board=b) for b in off]
    cycle = find_cycle(edges)
    if cycle:
        problems.append("dependency cycle: " + " -> ".join(cycle))
    return {"ok": not backend and not problems, "backend": backend, "problems": problems,
            "tasks": len(states), "links": len(edges), "tallies_off": off}


def recount(ctx: Ctx) -> None:
    """Rebuild the kept column and label counts from the tasks themselves."""
    with ctx.store.write() as tx:
        tallies.rebuild(tx.conn)
