"""The status changes of review, decided from the task alone (no I/O), written like every other
:class:`.moves.Move` by :func:`.transitions.apply`.

A worker's complete of checked work submits it (``running -> review``); a check's attempt opens
and ends inside ``review``; a verdict approves (``-> done``) or asks for changes (``-> ready``,
or ``-> blocked`` for a person once the rounds are spent).
"""

from __future__ import annotations

from typing import Any

from ..domain import events as ev
from ..domain.models import (
    OUTCOME_COMPLETED,
    RUN_REVIEW,
    STAGE_HUMAN,
    Task,
)
from ..domain.statuses import Status, check_transition
from ..errors import InvalidTransition
from .base import Actor
from .common import CLEAR_CLAIM
from .moves import Handoff, Move
from .review_policy import Policy

Then = tuple[tuple[str, dict[str, Any] | None], ...]


def in_review(task: Task, verb: str) -> None:
    if task.status is not Status.REVIEW:
        raise InvalidTransition(f"task {task.id} is {task.status.value}, not in review; nothing to {verb}")


def _asked(task: Task, stage: str | None) -> Then:
    return ((ev.REVIEW_REQUESTED, {"assignee": task.assignee}),) if stage == STAGE_HUMAN else ()


def submit(task: Task, actor: Actor, h: Handoff, pol: Policy) -> Move:
    """A worker's complete of work that is checked: the attempt ends completed with its handoff
    (the one children get once approved) and the task waits in review."""
    check_transition(task.status, Status.REVIEW)
    stage = pol.first_stage()
    values: dict[str, Any] = {**CLEAR_CLAIM, "review_stage": stage}
    if h.result is not None:
        values["result"] = h.result
    return Move(task.status, Status.REVIEW, values, ev.SUBMITTED,
                {"summary": h.first_line, "stage": stage, "by": actor.name}, OUTCOME_COMPLETED,
                h.summary, h.metadata, then=_asked(task, stage))


def _verdict_run(task: Task, actor: Actor, now: float, outcome: str, *, summary: str | None = None,
                 error: str | None = None) -> dict[str, Any]:
    """The verdict of a person (no check attempt open) is an attempt of its own in the history."""
    return {"task_id": task.id, "board": task.board, "profile": actor.name, "status": outcome,
            "outcome": outcome, "kind": RUN_REVIEW, "started_at": now, "ended_at": now,
            "summary": summary, "error": error}


def done(task: Task, actor: Actor, now: float, *, event: str, outcome: str,
         summary: str | None, payload: dict[str, Any]) -> Move:
    """The work counts: ``review -> done``; children waiting on it are promoted."""
    check_transition(task.status, Status.DONE)
    values = {**CLEAR_CLAIM, "completed_at": now, "review_stage": None, "review_rounds": 0,
              "consecutive_failures": 0, "last_failure_error": None}
    return Move(task.status, Status.DONE, values, event, payload, outcome, summary,
                attempt_if_unclaimed=_verdict_run(task, actor, now, outcome, summary=summary),
                then=((ev.COMPLETED, {"summary": payload.get("summary"), "by": actor.name}),))


def next_stage(task: Task, actor: Actor, stage: str, payload: dict[str, Any], outcome: str) -> Move:
    """Acceptance passed and a review follows: the task stays in review for its next check."""
    check_transition(task.status, Status.REVIEW)
    return Move(task.status, Status.REVIEW, {**CLEAR_CLAIM, "review_stage": stage},
                ev.ACCEPTANCE_PASSED, payload, outcome, payload.get("summary"),
                then=_asked(task, stage))


def changes(task: Task, actor: Actor, now: float, *, reason: str, pol: Policy, event: str,
            outcome: str, thread: str) -> Move:
    """Changes requested (by a reviewer, a person or a failed acceptance command): one more
    round; back to ready for the implementer, or blocked for a person once ``max_rounds`` are
    spent, with the whole review thread as the reason."""
    rounds = task.review_rounds + 1
    spent = rounds >= pol.max_rounds
    to = Status.BLOCKED if spent else Status.READY
    check_transition(task.status, to)
    values = {**CLEAR_CLAIM, "review_stage": None, "review_rounds": rounds}
    payload = {"reason": reason, "by": actor.name, "round": rounds, "max_rounds": pol.max_rounds}
    then: Then = ()
    if spent:
        why = (f"review: changes requested {rounds} times (max_rounds {pol.max_rounds}); a person "
               f"decides now.\n\n{thread}")
        then = ((ev.BLOCKED, {"reason": why, "by": actor.name}),)
    return Move(task.status, to, values, event, payload, outcome, error=reason,
                attempt_if_unclaimed=_verdict_run(task, actor, now, outcome, error=reason), then=then)

