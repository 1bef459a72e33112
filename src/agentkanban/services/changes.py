"""Changing one task's fields, and ``PATCH /tasks/{id}``: every part in one transaction.

The parts are applied in the seed's order (assignee, status, priority, title/body); each input is
checked before anything is read, and a refusal of any part rolls back the parts before it, so a
task is never left half-changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain import events as ev
from ..domain.models import Task
from ..domain.statuses import Status
from ..errors import Conflict
from ..store import Tx
from ..store import events as store_events
from ..store import tasks as store_tasks
from . import due, goals, labels, moves, review, scheduling, usage
from .base import Actor, Ctx
from .common import clean_assignee, clean_body, clean_title, load
from .transitions import cards_in, move_in


def assign_in(tx: Tx, board: str, task: Task, who: str | None, now: float,
              by: str | None = None) -> None:
    """Change the assignee (already cleaned); refused while a worker runs the task."""
    refused = moves.assign_refused(task, who)
    if refused:
        raise Conflict(refused)
    if task.assignee != who:
        review.withdraw_in_tx(tx, board, task, now, by, "assignee")
        store_tasks.set_fields(tx.conn, task.id, {"assignee": who, "consecutive_failures": 0,
                                                  "last_failure_error": None, "updated_at": now})
        payload: dict[str, Any] = {"assignee": who}
        if by is not None:
            payload["by"] = by
        store_events.append(tx, board=board, task_id=task.id, kind=ev.ASSIGNED, now=now,
                            payload=payload)


def reprioritize_in(tx: Tx, board: str, task: Task, priority: int, now: float) -> None:
    store_tasks.set_fields(tx.conn, task.id, {"priority": int(priority), "updated_at": now})
    store_events.append(tx, board=board, task_id=task.id, kind=ev.REPRIORITIZED, now=now,
                        payload={"priority": int(priority)})


def edit_in(tx: Tx, board: str, task: Task, values: dict[str, Any], now: float) -> None:
    """``values``: cleaned title/body/result."""
    if values:
        if "body" in values and values["body"] != task.body:
            review.withdraw_in_tx(tx, board, task, now, None, "body")
        store_tasks.set_fields(tx.conn, task.id, {**values, "updated_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.EDITED, now=now,
                            payload={"fields": sorted(values)})


def edit_values(title: str | None, body: str | None, result: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = clean_title(title)
    if body is not None:
        values["body"] = clean_body(body)
    if result is not None:
        values["result"] = clean_body(result)
    return values


@dataclass(frozen=True)
class Update:
    """A ``PATCH /tasks/{id}`` body; None leaves a field alone (``assignee=""`` unassigns)."""

    status: str | None = None
    assignee: str | None = None
    priority: int | None = None
    title: str | None = None
    body: str | None = None
    result: str | None = None
    summary: str | None = None
    metadata: dict[str, Any] | str | None = None
    block_reason: str | None = None
    created_cards: list[str] | None = None  # with status=done, see transitions.complete
    artifacts: list[str] | None = None
    max_cost_usd: float | str | None = None  # see usage.parse_task_limit
    goal_mode: bool | None = None
    goal_max_turns: int | None = None  # 0 clears the limit
    scheduled_at: float | None = None
    schedule: bool = False  # whether scheduled_at was given (None then releases the task)
    labels: list[str] | None = None  # replaces the labels
    add_labels: list[str] | None = None
    remove_labels: list[str] | None = None
    due_at: Any = None  # see services.due.parse_due
    set_due: bool = False  # whether due_at was given (None then clears it)


def update(ctx: Ctx, board: str, task_id: str, change: Update, *, actor: Actor) -> Task:
    """Apply ``change`` in the seed's order, all in one transaction: the task is changed entirely
    or not at all. Status goes through :func:`.moves.decide` like every other status change."""
    who = clean_assignee(change.assignee or None) if change.assignee is not None else None
    target = moves.api_target(change.status) if change.status is not None else None
    handoff = (moves.handoff(change.result, change.summary, change.metadata, change.artifacts)
               if target is Status.DONE else None)
    edits = edit_values(change.title, change.body)
    limit = usage.parse_task_limit(change.max_cost_usd)
    now = ctx.now()
    when = scheduling.check_time(change.scheduled_at, now) if change.schedule else None
    new_labels = _label_change(change)
    due_at = due.parse_due(change.due_at) if change.set_due else None
    with ctx.store.write() as tx:
        if target is not None or change.schedule:  # may promote or demote other tasks
            store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        if change.assignee is not None:
            assign_in(tx, board, task, who, now)
            task = load(tx.conn, board, task.id)
        if handoff is not None and change.created_cards:
            handoff = handoff.with_cards(cards_in(tx, board, change.created_cards))
        if target is not None and move_in(tx, board, task, target, actor, now, handoff=handoff,
                                          reason=change.block_reason):
            task = load(tx.conn, board, task.id)
        if change.priority is not None:
            reprioritize_in(tx, board, task, change.priority, now)
        edit_in(tx, board, task, edits, now)
        if limit[0]:
            usage.set_task_limit_in_tx(tx, board, task.id, limit[1], now)
        if change.goal_mode is not None or change.goal_max_turns is not None:
            goals.set_goal_in(tx, board, load(tx.conn, board, task.id), change.goal_mode,
                              change.goal_max_turns, now)
        if change.schedule:
            scheduling.schedule_in(tx, board, load(tx.conn, board, task.id), when, now)
        if new_labels is not None:
            current = load(tx.conn, board, task.id)
            labels.change_in(tx, board, current, new_labels(current), now)
        if change.set_due:
            due.set_in(tx, board, load(tx.conn, board, task.id), due_at, now)
        return load(tx.conn, board, task.id)


def _label_change(change: Update) -> Callable[[Task], list[str]] | None:
    """The labels part of a change, checked before anything is read: a function of the task's
    current labels, or None when the change says nothing about labels."""
    if change.labels is None and change.add_labels is None and change.remove_labels is None:
        return None
    base = None if change.labels is None else labels.clean_labels(change.labels)
    add = labels.clean_labels(change.add_labels)
    remove = labels.clean_labels(change.remove_labels)

    return lambda task: labels.merged(task, add, remove, base)
