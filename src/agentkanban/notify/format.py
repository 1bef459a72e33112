"""Short, useful messages: what happened, to which task, by whom, and what to do about it.

The first line is what a phone shows in the notification banner, so it carries the outcome, the
task id and the title; the detail (summary, block reason or error) and the dashboard link follow.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from ..domain import events as ev
from ..domain.models import Event, Task
from .base import Destination, Message, clip

MAX_TITLE = 120
MAX_DETAIL = 300

ICONS = {ev.COMPLETED: "✅", ev.BLOCKED: "⏸️", ev.GAVE_UP: "🛑", ev.CRASHED: "💥",
         ev.TIMED_OUT: "⏱️", ev.BUDGET_REACHED: "💸", ev.REVIEW_REQUESTED: "👀",
         ev.CHANGES_REQUESTED: "↩️", ev.APPROVAL_REQUESTED: "🔐"}


def idempotency_key(event: Event, dest: Destination) -> str:
    """Stable per (event, destination), 25 characters (Discord's nonce limit).

    The task id is random per install, so two boards' event #42 never share a key.
    """
    raw = f"{event.task_id}|{event.id}|{dest.platform}|{dest.chat_id}|{dest.thread_id}"
    return "ak-" + hashlib.sha256(raw.encode()).hexdigest()[:22]


def task_url(public_url: str | None, task: Task) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/?board={quote(task.board)}&task={quote(task.id)}"


def _first_line(text: Any) -> str:
    s = str(text or "").strip()
    return s.splitlines()[0].strip() if s else ""


def headline(task: Task, event: Event) -> tuple[str, str]:
    """(what happened, the detail line) for one event."""
    p = event.payload or {}
    error = _first_line(p.get("error"))
    if event.kind == ev.COMPLETED:
        return "done", _first_line(p.get("summary") or task.result)
    if event.kind == ev.BLOCKED:
        reason = _first_line(p.get("reason"))
        return "blocked", f"Reason: {reason}" if reason else "No reason given."
    if event.kind == ev.GAVE_UP:
        n = p.get("failures")
        what = f"gave up after {n} failed attempts" if n else "gave up"
        return what, f"Last error: {error}" if error else "Needs a person: unblock it to retry."
    if event.kind == ev.CRASHED:
        return "worker crashed", f"Error: {error}" if error else ""
    if event.kind == ev.TIMED_OUT:
        limit = p.get("max_runtime") or task.max_runtime_seconds
        what = f"timed out after {limit}s" if limit else "timed out"
        return what, f"Error: {error}" if error else ""
    if event.kind == ev.BUDGET_REACHED:
        n = p.get("waiting") or 0
        return f"budget reached, {n} task(s) waiting", _first_line(p.get("reason"))
    if event.kind == ev.REVIEW_REQUESTED:
        return "needs your review", "Approve it or request changes."
    if event.kind == ev.CHANGES_REQUESTED:
        return f"changes requested (round {p.get('round', '?')})", _first_line(p.get("reason"))
    if event.kind == ev.APPROVAL_REQUESTED:
        return "awaiting approval to start", "Approve its start to let a worker run it."
    return event.kind.replace("_", " "), ""


def render(task: Task, event: Event, dest: Destination, public_url: str | None = None) -> Message:
    what, detail = headline(task, event)
    icon = ICONS.get(event.kind, "•")
    title = clip(task.title.strip().replace("\n", " "), MAX_TITLE)
    lines = [f"{icon} [{task.board}] {task.id} {what}: {title}"]
    if task.assignee:
        lines.append(f"Assignee: @{task.assignee}")
    if detail:
        lines.append(clip(detail, MAX_DETAIL))
    url = task_url(public_url, task)
    if url:
        lines.append(url)
    data = {
        "kind": event.kind,
        "event": {"id": event.id, "kind": event.kind, "created_at": event.created_at,
                  "payload": event.payload},
        "task": {"id": task.id, "board": task.board, "title": task.title,
                 "assignee": task.assignee, "status": task.status.value},
        "summary": detail or None,
        "url": url,
    }
    return Message(text="\n".join(lines), key=idempotency_key(event, dest), data=data)
