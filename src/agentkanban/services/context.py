"""The worker context document: everything an agent needs to start on a task, as markdown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..domain.statuses import Status
from ..store import comments as store_comments
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from . import history, review_context
from .base import Ctx
from .common import load

BODY_CAP = 8_000
FIELD_CAP = 4_000
COMMENT_CAP = 2_000


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [truncated, {len(text) - limit} chars omitted]"


def relative(ts: float, now: float) -> str:
    s = max(0, int(now - ts))
    if s < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit} ago"
    return "just now"  # pragma: no cover


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _meta(metadata: dict[str, Any] | None) -> list[str]:
    if not metadata:
        return []
    return [f"_metadata_: `{_cap(json.dumps(metadata, sort_keys=True), FIELD_CAP)}`"]


def _attachments(ctx: Ctx, board: str, task_id: str) -> list[str]:
    from .attachments import for_task, store_dir

    atts = for_task(ctx, task_id)
    if not atts:
        return []
    root = store_dir(ctx) / board
    lines = ["", "## Attachments (read them at these paths; add yours with `kanban attach FILE`)"]
    for a in atts:
        lines.append(f"- {a.filename} ({a.size} bytes, {a.content_type}, from {a.uploaded_by}): "
                     f"{root / a.stored_name}")
    return lines


def build(ctx: Ctx, board: str, task_id: str) -> str:
    now = ctx.now()
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        runs = store_runs.for_task(conn, task.id)
        parent_ids = store_tasks.parent_ids(conn, task.id)
        parents = [load(conn, board, p) for p in parent_ids]
        done_parents = [p for p in parents if p.status is Status.DONE]
        parent_runs = store_runs.latest_completed(conn, [p.id for p in done_parents])
        recent = (store_runs.recent_by_profile(conn, task.assignee, task.id)
                  if task.assignee else [])
        comments = store_comments.for_task(conn, task.id, limit=30)
        past = history.load(conn, task.id) if runs else None
    out = [f"# Kanban task {task.id}: {task.title}", "",
           f"Board: {board}", f"Assignee: {task.assignee or '(unassigned)'}",
           f"Status: {task.status.value}"]
    if task.tenant:
        out.append(f"Tenant: {task.tenant}")
    out.append(f"Workspace: {task.workspace_kind} @ {task.workspace_path or '(unresolved)'}")
    if task.max_runtime_seconds:
        out.append(f"Max runtime: {task.max_runtime_seconds}s")
    if task.status is Status.READY:
        from .budgets import why_waiting

        waiting = why_waiting(ctx, board, task)
        if waiting:
            out.append(f"Waiting: {waiting}")
    if parent_ids:
        out.append("Parents: " + ", ".join(f"{p.id} ({p.status.value})" for p in parents))
    out += ["", "## Body", _cap(task.body, BODY_CAP) if task.body else "(no body)"]
    closed = [r for r in runs if r.ended_at is not None]
    if past is not None:
        current = next((r for r in runs if r.id == task.current_run_id and r.ended_at is None), None)
        out += history.render(closed, current, past, comments,
                              lambda r: f"{_when(r.started_at)}, {relative(r.started_at, now)}")
    out += review_context.section(ctx.settings, task, runs)
    if done_parents:
        out += ["", "## Parent task results"]
        for p in done_parents:
            when = relative(p.completed_at, now) if p.completed_at else "earlier"
            out.append(f"### {p.id}: {p.title} (completed {when})")
            prun = parent_runs.get(p.id)
            out.append(_cap((prun.summary if prun and prun.summary else p.result) or "(no result recorded)",
                            FIELD_CAP))
            out += _meta(prun.metadata if prun else None)
    if recent:
        out += ["", f"## Recent work by @{task.assignee}"]
        for r in recent:
            first = (r.summary or "").splitlines()[0][:200] if r.summary else "(no summary)"
            out.append(f"- {r.task_id}: {first}")
    out += _attachments(ctx, board, task.id)
    if task.goal_mode:
        out += ["", f"Goal mode: on{f' (at most {task.goal_max_turns} turns)' if task.goal_max_turns else ''}"]
    if comments:
        out += ["", "## Comment thread"]
        for c in comments:
            out.append(f"comment from `{c.author}` at {_when(c.created_at)} ({relative(c.created_at, now)}):")
            out.append(_cap(c.body, COMMENT_CAP))
    return "\n".join(out) + "\n"
