"""What each status change does to one task, decided from the task alone (no I/O).

Every status change is a :class:`Move` built here (the verbs, :func:`decide` for "move this task
to that status" from any surface, and the attempt moves in :mod:`.attempts`) and written by
:func:`.transitions.apply`, the one compare-and-set write path; :mod:`.bulk` decides many with the
same functions and writes them together. So a refusal reads the same and a change writes the same
columns, attempt outcome and events whichever surface asked.
"""


from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..domain import events as ev
from ..domain.models import OUTCOME_BLOCKED, OUTCOME_COMPLETED, OUTCOME_RECLAIMED, Task
from ..domain.statuses import (
    PARENT_SATISFIED,
    RUNNING_ONLY_BY_CLAIM,
    Status,
    check_transition,
    parse_status,
    refuse_running,
)
from ..errors import Conflict, InvalidTransition, ValidationError
from ..store import rows
from .base import Actor
from .common import CLEAR_CLAIM, clean_body
from .text import refuse_invalid_text

MAX_SUMMARY = 100_000

SET_RUNNING_REFUSED = RUNNING_ONLY_BY_CLAIM  # kept for callers of the old name
Waiting = Iterable[tuple[str, str, str]]  # (id, title, status) of each parent not yet done


@dataclass(frozen=True)
class Move:
    """One task's status change: the columns it sets, how an open attempt ends, its event."""

    frm: Status
    to: Status
    values: dict[str, Any]  # set along with the status (``updated_at`` is added when applied)
    event: str
    payload: dict[str, Any] | None
    outcome: str | None  # the open attempt, if any, ends with this outcome (None: it stays open)
    summary: str | None = None
    metadata: dict[str, Any] | None = None
    # complete only: a task never claimed gets a zero-length attempt so the handoff has a home
    attempt_if_unclaimed: dict[str, Any] | None = None
    error: str | None = None  # the ended attempt's error
    # claim only: the attempt to open; its id becomes the task's current_run_id
    open_run: dict[str, Any] | None = None
    then: tuple[tuple[str, dict[str, Any] | None], ...] = ()  # events written after ``event``

    @property
    def releases(self) -> bool:
        """Into done or archived: subscriptions end and waiting tasks may be promoted."""
        return self.to in PARENT_SATISFIED

    @property
    def reopens(self) -> bool:
        """Out of done/archived: ready children wait on this task again."""
        return self.frm in PARENT_SATISFIED and self.to not in PARENT_SATISFIED


@dataclass(frozen=True)
class Handoff:
    """A completion's result, summary and metadata, checked before any task is read."""

    result: str | None
    summary: str | None
    metadata: dict[str, Any] | None

    @property
    def first_line(self) -> str | None:
        return self.summary.splitlines()[0][:400] if self.summary else None

    def with_cards(self, card_ids: list[str]) -> Handoff:
        """The follow-up tasks the worker created, checked to exist, as ``metadata.created_cards``."""
        return Handoff(self.result, self.summary, {**(self.metadata or {}), "created_cards": card_ids})


def parse_metadata(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """Metadata is a JSON object; a string is parsed, anything else is refused."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValidationError(f"metadata is not valid JSON ({err.msg} at position {err.pos})") from None
    if not isinstance(raw, dict):
        raise ValidationError('metadata must be a JSON object, e.g. {"files": ["a.py"]}')
    refuse_invalid_text(raw, "metadata")
    return raw


def handoff(result: str | None, summary: str | None, metadata: dict[str, Any] | str | None,
            artifacts: Iterable[str] | None = None) -> Handoff:
    """Check a completion's handoff; ``artifacts`` (paths or URLs of what was produced) are merged
    into ``metadata.artifacts``, after any already there, without repeats."""
    meta = parse_metadata(metadata)
    if artifacts:
        meta = dict(meta or {})
        prior = meta.get("artifacts")
        kept = [str(a) for a in prior] if isinstance(prior, list) else []
        meta["artifacts"] = list(dict.fromkeys([*kept, *(str(a) for a in artifacts)]))
    result = clean_body(result)
    summary = (summary or "").strip() or (result or "").strip() or None
    if summary and len(summary) > MAX_SUMMARY:
        raise ValidationError(f"summary is too long (at most {MAX_SUMMARY} characters)")
    return Handoff(result, summary, meta)


def api_target(raw: str | Status) -> Status:
    """A status asked for by a person or a client; nothing there can start a task."""
    status = raw if isinstance(raw, Status) else parse_status(raw)
    refuse_running(status)
    return status


def needs_parents(task: Task, target: Status) -> bool:
    """Whether :func:`decide` needs the task's unfinished parents (a move into ready)."""
    return target is Status.READY and task.status is not Status.READY


def decide(task: Task, target: Status, actor: Actor, *, waiting: Waiting = (),
           handoff: Handoff | None = None, reason: str | None = None,
           now: float = 0.0) -> Move | None:
    """The one decision for "move this task to ``target``", whatever surface asks (PATCH, bulk,
    drag and drop, the CLI's verbs): done completes, blocked blocks, archived archives, ready
    unblocks a blocked task, triage/todo/ready are direct moves. None when there is nothing to do.

    Adding a status: add it to ``domain.statuses`` (enum, table, columns) and give it a branch here
    (or let it fall through to a direct move) and, if it needs one, a verb below.
    """
    refuse_running(target)
    if target is Status.REVIEW:
        raise InvalidTransition("'review' is entered when a worker completes work that its profile "
                                "has checked (docs/review.md), not by a move")
    if target is Status.DONE:
        return complete(task, actor, handoff or Handoff(None, None, None), now)
    if target is Status.BLOCKED:
        return block(task, actor, reason)
    if target is Status.ARCHIVED:
        return archive(task, actor)
    if target is Status.READY and task.status is Status.BLOCKED:
        return unblock(task, actor, bool(list(waiting)))
    return direct(task, target, actor, waiting)


def _refuse_repeat(task: Task, status: Status) -> None:
    if task.status is status:
        raise InvalidTransition(f"task {task.id} is already {status.value}")


def complete(task: Task, actor: Actor, h: Handoff, now: float) -> Move:
    _refuse_repeat(task, Status.DONE)
    if task.status is Status.REVIEW:
        raise InvalidTransition(f"task {task.id} is in review; approve it (`kanban approve`) or "
                                "request changes (`kanban request-changes --reason ...`)")
    check_transition(task.status, Status.DONE)
    values: dict[str, Any] = {**CLEAR_CLAIM, "completed_at": now, "consecutive_failures": 0,
                              "last_failure_error": None}
    if h.result is not None:
        values["result"] = h.result
    attempt = {
        "task_id": task.id, "board": task.board, "profile": task.assignee or actor.name,
        "status": OUTCOME_COMPLETED, "outcome": OUTCOME_COMPLETED, "started_at": now,
        "ended_at": now, "summary": h.summary,
        "metadata": rows.dumps(h.metadata, "metadata"),
    }
    return Move(task.status, Status.DONE, values, ev.COMPLETED,
                {"summary": h.first_line, "result_len": len(h.result or "")},
                OUTCOME_COMPLETED, h.summary, h.metadata, attempt)


def block(task: Task, actor: Actor, reason: str | None) -> Move:
    reason = (reason or "").strip() or None
    _refuse_repeat(task, Status.BLOCKED)
    check_transition(task.status, Status.BLOCKED)
    return Move(task.status, Status.BLOCKED, dict(CLEAR_CLAIM), ev.BLOCKED,
                {"reason": reason, "by": actor.name}, OUTCOME_BLOCKED, reason)


def unblock(task: Task, actor: Actor, waiting_on_parent: bool) -> Move:
    """Blocked -> ready, or todo while a parent is not done. Resets the failure counter."""
    if task.status is not Status.BLOCKED:
        raise InvalidTransition(f"task {task.id} is {task.status.value}, not blocked")
    target = Status.TODO if waiting_on_parent else Status.READY
    check_transition(task.status, target)
    return Move(task.status, target, {**CLEAR_CLAIM, "consecutive_failures": 0,
                                      "last_failure_error": None, "review_rounds": 0},
                ev.UNBLOCKED, {"status": target.value, "by": actor.name}, OUTCOME_RECLAIMED,
                "unblocked")


def archive(task: Task, actor: Actor) -> Move:
    _refuse_repeat(task, Status.ARCHIVED)
    check_transition(task.status, Status.ARCHIVED)
    return Move(task.status, Status.ARCHIVED, dict(CLEAR_CLAIM), ev.ARCHIVED, {"by": actor.name},
                OUTCOME_RECLAIMED, "archived")


def direct(task: Task, target: Status, actor: Actor, waiting: Waiting = ()) -> Move | None:
    """A direct move to triage, todo or ready; None when the task is already there.

    ``waiting``: the ``(id, title, status)`` of each parent not yet done, which holds a move to
    ready back.
    """
    if task.status is target:
        return None
    if target is Status.READY:
        names = ", ".join(f"{pid} {title!r} (status={status})" for pid, title, status in waiting)
        if names:
            raise Conflict(f"cannot move {task.id} to 'ready': waiting on parent(s) not done: {names}")
    check_transition(task.status, target)
    return Move(task.status, target, {**CLEAR_CLAIM, "completed_at": None}, ev.STATUS,
                {"status": target.value, "by": actor.name}, OUTCOME_RECLAIMED,
                f"status changed to {target.value} by {actor.name}")


def assign_refused(task: Task, who: str | None = None) -> str | None:
    """Why the assignee cannot change (to ``who``) now, or None."""
    if task.status is Status.RUNNING:
        return f"task {task.id} is running; reclaim it first (`kanban reassign --reclaim`)"
    if who and task.review_by == who:
        return (f"task {task.id} is reviewed by {who!r}; a profile cannot review its own work "
                "(change its review_by first)")
    return None


def written(task: Task, move: Move) -> dict[str, Any]:
    """The columns a move writes besides the status: a task leaving review for good no longer
    waits for a check."""
    if task.status is Status.REVIEW and move.to is not Status.REVIEW:
        return {"review_stage": None, **move.values}
    return dict(move.values)


def withdrawal(task: Task, by: str | None, what: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The body or assignee changed: an approval to start no longer covers what would run. The
    columns to write, and the ``approval_withdrawn`` event's payload when one was given."""
    if task.approval is None:
        return {}, None
    return {"approval": None}, ({"by": by, "changed": what} if task.approval == "approved" else None)
