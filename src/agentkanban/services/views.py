"""Read models shared by the API, the CLI and the dashboard: the board, stats, assignees."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from .. import gcpause
from ..domain.models import TASK_TIMES, Task, whole_seconds
from ..domain.statuses import BOARD_COLUMNS, Status
from ..store import events as store_events
from ..store import tasks as store_tasks
from .base import Ctx

_DONE = Status.DONE.value


def _age(created: float, started: float | None, completed: float | None,
         now: float) -> dict[str, int | None]:
    return {
        "created_age_seconds": int(now - created),
        "started_age_seconds": int(now - started) if started else None,
        "time_to_complete_seconds": int(completed - started) if completed and started else None,
    }


def add_age(d: dict[str, Any], now: float) -> dict[str, Any]:
    """A task row as a dict, in the API's shape: derived ages, timestamps in whole seconds."""
    d["age"] = _age(d["created_at"], d["started_at"], d["completed_at"], now)
    return whole_seconds(d, TASK_TIMES)


def task_json(task: Task, now: float) -> dict[str, Any]:
    """The API shape of a task: every field (timestamps in whole seconds) plus derived ages."""
    d = task.to_dict()
    d["age"] = _age(task.created_at, task.started_at, task.completed_at, now)
    return d


def _link_tallies(links: list[tuple[str, str, str]]) -> tuple[dict[str, int], ...]:
    parents: dict[str, int] = {}
    children: dict[str, int] = {}
    done: dict[str, int] = {}
    for pid, cid, child_status in links:
        children[pid] = children.get(pid, 0) + 1
        parents[cid] = parents.get(cid, 0) + 1
        if child_status == _DONE:
            done[pid] = done.get(pid, 0) + 1
    return parents, children, done


def _sort_rows(keys: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Priority (high first), then oldest, then id: two stable sorts on C-level keys."""
    rows.sort(key=itemgetter(keys.index("created_at"), keys.index("id")))
    rows.sort(key=itemgetter(keys.index("priority")), reverse=True)


def board_view(ctx: Ctx, board: str, *, tenant: str | None = None,
               include_archived: bool = False) -> dict[str, Any]:
    """The whole board grouped by column, each column by priority then age, with per-card link
    counts, child progress and comment counts. Five queries; the cards are built from plain row
    tuples with the garbage collector paused (see :mod:`agentkanban.gcpause`)."""
    now = ctx.now()
    with gcpause.paused():
        with ctx.store.read() as conn:
            keys, rows = store_tasks.board_rows(conn, board, include_archived=include_archived,
                                                tenant=tenant)
            links = store_tasks.board_links(conn, board)
            comments = store_tasks.comment_counts(conn, board)
            tenants = store_tasks.distinct_values(conn, board, "tenant")
            assignees = store_tasks.distinct_values(conn, board, "assignee", include_archived=False)
            latest = store_events.max_id(conn, board)
        names = list(BOARD_COLUMNS) + (["archived"] if include_archived else [])
        columns: dict[str, list[dict[str, Any]]] = {c: [] for c in names}
        parents, children, done = _link_tallies(links)
        no_links = {"parents": 0, "children": 0}
        loads = json.loads
        times = [k for k in TASK_TIMES if k in keys]
        _sort_rows(keys, rows)
        for row in rows:
            d = dict(zip(keys, row, strict=False))  # same length by construction; strict costs ~10 %
            tid = d["id"]
            skills = d["skills"]
            d["skills"] = loads(skills) if skills and skills != "[]" else []
            labels = d["labels"]
            d["labels"] = loads(labels) if labels and labels != "[]" else []
            d["age"] = _age(d["created_at"], d["started_at"], d["completed_at"], now)
            for k in times:
                if d[k] is not None:
                    d[k] = int(d[k])
            n_parents, n_children = parents.get(tid, 0), children.get(tid, 0)
            d["link_counts"] = ({"parents": n_parents, "children": n_children}
                                if n_parents or n_children else no_links)
            d["comment_count"] = comments.get(tid, 0)
            d["progress"] = {"done": done.get(tid, 0), "total": n_children} if n_children else None
            columns.get(d["status"], columns["todo"]).append(d)
        decorate(ctx, board, columns, now)  # many small dicts too: inside the pause
    return {
        "columns": [{"name": n, "tasks": columns[n]} for n in names],
        "tenants": tenants,
        "assignees": assignees,
        "latest_event_id": latest,
        "now": int(now),
    }


def _mark_retries(ctx: Ctx, ready: list[dict[str, Any]]) -> None:
    """``next_attempt_at`` on the ready cards that wait out a retry backoff (few: only those
    whose last attempt failed are looked at)."""
    failed = [d for d in ready if d.get("last_failure_error")]
    if not failed:
        return
    from .backoff import waiting

    retries = waiting(ctx, [d["id"] for d in failed])
    for d in failed:
        if d["id"] in retries:
            d["next_attempt_at"] = retries[d["id"]].at


def decorate(ctx: Ctx, board: str, columns: dict[str, list[dict[str, Any]]], now: float) -> None:
    """What every card carries beyond its row, on the seed's board and the dashboard's page alike:
    when a retry may start (ready cards), its latest summary, diagnostics and warnings."""
    from .insights import annotate

    _mark_retries(ctx, columns.get("ready", []))
    annotate(ctx, board, [d for col in columns.values() for d in col], now)


def stats(ctx: Ctx, board: str) -> dict[str, Any]:
    now = ctx.now()
    with ctx.store.read() as conn:
        rows = store_tasks.counts_by(conn, board, "status", "assignee")
        oldest = store_tasks.oldest_ready_created(conn, board)
    by_status: dict[str, int] = {}  # only the statuses present, as the seed answers
    by_assignee: dict[str, dict[str, int]] = {}
    for status, assignee, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        if assignee:
            by_assignee.setdefault(assignee, {})[status] = n
    return {
        "by_status": {s.value: by_status[s.value] for s in Status if s.value in by_status},
        "by_assignee": by_assignee,
        "oldest_ready_age_seconds": int(now - oldest) if oldest is not None else None,
        "now": int(now),
    }


def assignees(ctx: Ctx, board: str) -> list[dict[str, Any]]:
    """Configured worker profiles plus every assignee on the board, with counts by status."""
    with ctx.store.read() as conn:
        rows = store_tasks.counts_by(conn, board, "assignee", "status")
    counts: dict[str, dict[str, int]] = {}
    for assignee, status, n in rows:
        if assignee:
            counts.setdefault(assignee, {})[status] = n
    names = set(counts) | set(ctx.settings.profiles)
    return [{"name": n, "on_disk": n in ctx.settings.profiles, "counts": counts.get(n, {})}
            for n in sorted(names)]
