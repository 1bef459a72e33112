"""The status changes of an attempt's life, decided from the task alone (no I/O).

A claim starts an attempt; a claim of a task whose parents are not all done sends it back to
todo; an attempt that did not finish ends back in ready (or blocked once the failure limit is
reached); an operator's reclaim ends it by hand. Each is a :class:`.moves.Move`, written by
:func:`.transitions.apply` like every other status change.
"""

from __future__ import annotations

from typing import Any

from ..domain import events as ev
from ..domain.models import (
    OUTCOME_RECLAIMED,
    OUTCOME_RUNNER_LOST,
    RUN_ACCEPTANCE,
    RUN_REVIEW,
    RUN_WORK,
    STAGE_ACCEPTANCE,
    STAGE_AGENT,
    Task,
)
from ..domain.statuses import Status, check_transition
from ..errors import InvalidTransition
from .common import CLEAR_CLAIM
from .moves import Move

RESET_FAILURES: dict[str, Any] = {"consecutive_failures": 0, "last_failure_error": None}

# The attempt a task in review gets at each stage a process checks (a person's has none).
CHECK_KINDS = {STAGE_ACCEPTANCE: RUN_ACCEPTANCE, STAGE_AGENT: RUN_REVIEW}


def kind_of(task: Task) -> str | None:
    """The kind of attempt a claim of ``task`` would start; None when it is not claimable."""
    if task.claim_lock is not None:
        return None
    if task.status is Status.READY:
        return RUN_WORK
    if task.status is Status.REVIEW:
        return CHECK_KINDS.get(task.review_stage or "")
    return None


def claim(task: Task, *, profile: str, lock: str, ttl: float, max_runtime: int | None,
          token_hash: str, now: float) -> Move | None:
    """``ready -> running`` with a new attempt, or a check's attempt of a task in review (it
    stays in review); None when the task is not claimable."""
    kind = kind_of(task)
    if kind is None:
        return None
    to = Status.RUNNING if kind == RUN_WORK else Status.REVIEW
    check_transition(task.status, to, claim=True)
    run = {"task_id": task.id, "board": task.board, "profile": profile, "status": "running",
           "claim_lock": lock, "token_hash": token_hash, "claim_expires": now + ttl,
           "max_runtime_seconds": task.max_runtime_seconds or max_runtime, "started_at": now,
           "kind": kind}
    values = {"claim_lock": lock, "claim_expires": now + ttl, "started_at": task.started_at or now,
              "last_heartbeat_at": None, "worker_pid": None}
    return Move(task.status, to, values, ev.CLAIMED,
                {"lock": lock, "expires": now + ttl, "profile": profile, "kind": kind}, None,
                open_run=run)


def back_to(task: Task) -> Status:
    """Where an unfinished attempt leaves its task: a check's attempt back in review (the check
    runs again), the work back in ready."""
    return Status.REVIEW if task.status is Status.REVIEW else Status.READY


def gate(task: Task, reason: str) -> Move:
    """A ready task found waiting on a parent goes back to todo."""
    check_transition(task.status, Status.TODO)
    return Move(task.status, Status.TODO, {}, ev.STATUS, {"status": "todo", "reason": reason}, None)


def end(task: Task, *, outcome: str, error: str | None, count_failure: bool, failure_limit: int,
        payload: dict[str, Any] | None = None) -> Move:
    """An attempt that did not finish: back to ready, or blocked (``gave_up``) once the failure
    counter reaches the task's ``max_retries`` or the configured limit."""
    failures = task.consecutive_failures + (1 if count_failure else 0)
    limit = task.max_retries or failure_limit
    values = {**CLEAR_CLAIM, "consecutive_failures": failures, "last_failure_error": error}
    gives_up = count_failure and failures >= limit
    to = Status.BLOCKED if gives_up else back_to(task)
    check_transition(task.status, to)
    then: tuple[tuple[str, dict[str, Any] | None], ...] = ()
    if gives_up:
        then = ((ev.GAVE_UP, {"failures": failures, "limit": limit, "error": error,
                              "trigger": outcome}),)
    # A lost runner is told as a reclaim in the history (its own outcome on the attempt).
    kind = ev.RECLAIMED if outcome == OUTCOME_RUNNER_LOST else outcome
    return Move(task.status, to, values, kind,
                {**(payload or {}), "error": error, "failures": failures}, outcome,
                error=error, then=then)


def reclaim(task: Task, *, error: str, payload: dict[str, Any],
            reset_failures: bool = True) -> Move:
    """An operator ends the running attempt: back to ready (a check's attempt: back in review),
    the attempt ``reclaimed``."""
    if not has_open_attempt(task):
        raise InvalidTransition(f"task {task.id} is {task.status.value}, not running; nothing to reclaim")
    check_transition(task.status, back_to(task))
    values = {**CLEAR_CLAIM, **(RESET_FAILURES if reset_failures else {})}
    return Move(task.status, back_to(task), values, ev.RECLAIMED,
                {"manual": True, **payload, "worker_pid": task.worker_pid}, OUTCOME_RECLAIMED,
                error=error)


def has_open_attempt(task: Task) -> bool:
    """Running, or in review with a check's attempt under way."""
    return task.current_run_id is not None and task.status in (Status.RUNNING, Status.REVIEW)
