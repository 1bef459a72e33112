"""Review, acceptance and approval: the verbs that decide whether work counts (docs/review.md).

A worker's complete of checked work waits in ``review`` (:func:`.transitions.completion`); the dispatcher runs
the profile's acceptance commands, then a reviewer profile's attempt, or a person decides. Each
verdict is an event and an attempt in the run history, with who decided and why.
"""

from __future__ import annotations

import json

from ..domain import events as ev
from ..domain.models import (
    OUTCOME_ACCEPTED,
    OUTCOME_APPROVED,
    OUTCOME_CHANGES_REQUESTED,
    OUTCOME_COMPLETED,
    OUTCOME_START_APPROVED,
    RUN_ACCEPTANCE,
    RUN_APPROVAL,
    RUN_REVIEW,
    RUN_WORK,
    Run,
    Task,
)
from ..domain.statuses import Status
from ..errors import Forbidden, InvalidTransition, ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from . import moves, replay, review_moves
from .base import Actor, Ctx
from .common import check_worker, load
from .review_policy import Policy, needs_start_approval, policy
from .text import refuse_invalid_text
from .transitions import apply

MAX_REASON = 20_000
REPORT_TAIL = 4_000  # the end of a failed acceptance command's output kept in the reason


def _text(value: str | None, what: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(f"a {what} is required: say what must change")
        return None
    if len(text) > MAX_REASON:
        raise ValidationError(f"{what} is too long ({len(text)} characters, at most {MAX_REASON})")
    refuse_invalid_text(text, what)
    return text


def _check_reviewer(tx: Tx, task: Task, actor: Actor, verb: str, runs: list[Run]) -> None:
    """A worker decides only during its own review attempt, and never on its own profile's work."""
    if not actor.is_worker:
        return
    check_worker(tx.conn, task, actor, verb)
    current = next((r for r in runs if r.id == task.current_run_id), None)
    if current is None or current.kind != RUN_REVIEW:
        raise Forbidden(f"only a reviewer's attempt may {verb} {task.id}; this attempt is its "
                        f"{current.kind if current else 'work'}")
    work = _work_run(runs)
    if work is not None and work.profile == current.profile:
        raise Forbidden(f"profile {current.profile!r} did this work; it cannot {verb} its own work")


def _work_run(runs: list[Run]) -> Run | None:
    """The attempt whose completion is under review (its handoff is the one children get)."""
    return next((r for r in reversed(runs) if r.kind == RUN_WORK and r.outcome == OUTCOME_COMPLETED), None)


def thread(runs: list[Run]) -> str:
    """Every request for changes so far, oldest first: the review thread."""
    lines: list[str] = []
    for r in runs:
        if r.kind in (RUN_REVIEW, RUN_ACCEPTANCE) and r.outcome == OUTCOME_CHANGES_REQUESTED:
            who = "acceptance" if r.kind == RUN_ACCEPTANCE else f"review by {r.profile}"
            lines.append(f"{len(lines) + 1}. {who}: {r.error or '(no reason given)'}")
    return "\n".join(lines)


def approve(ctx: Ctx, board: str, task_id: str, *, actor: Actor, summary: str | None = None) -> Task:
    """The work counts: done, children promoted with the implementer's handoff, this review's
    summary added to it (``metadata.review``)."""
    note = _text(summary, "review summary", required=False)
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        if replay.already_ended(tx.conn, task, actor, OUTCOME_APPROVED, (Status.DONE,)):
            return task
        review_moves.in_review(task, "approve")
        runs = store_runs.for_task(tx.conn, task.id)
        _check_reviewer(tx, task, actor, "approve", runs)
        work = _work_run(runs)
        if work is not None:
            review = {"by": actor.name, "summary": note, "rounds": task.review_rounds}
            store_runs.set_fields(tx.conn, work.id, {"metadata": json.dumps(
                {**(work.metadata or {}), "review": review})})
        apply(tx, board, task, review_moves.done(
            task, actor, now, event=ev.APPROVED, outcome=OUTCOME_APPROVED, summary=note,
            payload={"by": actor.name, "summary": (note or "").splitlines()[0][:400] if note else None,
                     "stage": task.review_stage}), now)
        return load(tx.conn, board, task.id)


def request_changes(ctx: Ctx, board: str, task_id: str, *, actor: Actor, reason: str) -> Task:
    """Back to the implementer with ``reason`` in its next attempt's context; blocked for a
    person with the whole thread once the task's rounds are spent."""
    why = _text(reason, "reason", required=True)
    assert why is not None
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        if replay.already_ended(tx.conn, task, actor, OUTCOME_CHANGES_REQUESTED,
                                tuple(Status)):
            return task
        review_moves.in_review(task, "request changes on")
        runs = store_runs.for_task(tx.conn, task.id)
        _check_reviewer(tx, task, actor, "request changes on", runs)
        _changes(tx, board, task, actor, now, why, runs, ev.CHANGES_REQUESTED,
                 policy(ctx.settings, task))
        return load(tx.conn, board, task.id)


def _changes(tx: Tx, board: str, task: Task, actor: Actor, now: float, why: str, runs: list[Run],
             event: str, pol: Policy) -> None:
    label = "acceptance" if event == ev.ACCEPTANCE_FAILED else f"review by {actor.name}"
    count = sum(1 for r in runs if r.outcome == OUTCOME_CHANGES_REQUESTED and r.kind != RUN_WORK)
    whole = "\n".join(filter(None, [thread(runs), f"{count + 1}. {label}: {why}"]))
    apply(tx, board, task, review_moves.changes(task, actor, now, reason=why, pol=pol, event=event,
                                                outcome=OUTCOME_CHANGES_REQUESTED, thread=whole), now)


def acceptance_result(ctx: Ctx, board: str, task_id: str, *, actor: Actor, passed: bool,
                      report: str) -> Task:
    """The acceptance attempt reports: all commands passed (on to review, or done), or one failed
    (changes requested, counted as a round, with the command and the tail of its output)."""
    text = (report or "").strip()
    if len(text) > REPORT_TAIL:
        text = "…" + text[-REPORT_TAIL:]
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        review_moves.in_review(task, "accept")
        check_worker(tx.conn, task, actor, "report acceptance of")
        runs = store_runs.for_task(tx.conn, task.id)
        current = next((r for r in runs if r.id == task.current_run_id), None)
        if current is None or current.kind != RUN_ACCEPTANCE:
            raise Forbidden(f"only an acceptance attempt reports acceptance of {task.id}")
        pol = policy(ctx.settings, task)
        if not passed:
            _changes(tx, board, task, actor, now, text or "an acceptance command failed", runs,
                     ev.ACCEPTANCE_FAILED, pol)
            return load(tx.conn, board, task.id)
        payload = {"by": actor.name, "summary": text.splitlines()[-1][:400] if text else None}
        stage = pol.review_stage()
        if stage is None:
            move = review_moves.done(task, actor, now, event=ev.ACCEPTANCE_PASSED,
                                     outcome=OUTCOME_ACCEPTED, summary=text or None, payload=payload)
        else:
            move = review_moves.next_stage(task, actor, stage, payload, OUTCOME_ACCEPTED)
        apply(tx, board, task, move, now)
        return load(tx.conn, board, task.id)


_NOT_STARTABLE = (Status.RUNNING, Status.REVIEW, Status.DONE, Status.ARCHIVED)


def approve_start(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """A person lets the dispatcher start a task that waits for approval (an attempt of kind
    ``approval`` in the run history says who and when)."""
    if actor.is_worker:
        raise Forbidden("a worker cannot approve a task's start; a person does")
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.approval == "approved":
            return task
        if task.status in _NOT_STARTABLE:
            raise InvalidTransition(f"task {task.id} is {task.status.value}; only a task that has "
                                    "not started yet can be approved to start")
        if not needs_start_approval(ctx.settings, task):
            raise InvalidTransition(f"task {task.id} does not wait for approval (neither it nor its "
                                    "profile sets requires_approval)")
        store_tasks.set_fields(tx.conn, task.id, {"approval": "approved", "updated_at": now})
        run_id = store_runs.open_run(tx.conn, {
            "task_id": task.id, "board": board, "profile": actor.name, "kind": RUN_APPROVAL,
            "status": OUTCOME_START_APPROVED, "outcome": OUTCOME_START_APPROVED,
            "started_at": now, "ended_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.START_APPROVED, now=now,
                            run_id=run_id, payload={"by": actor.name})
        return load(tx.conn, board, task.id)


def request_approval(ctx: Ctx, board: str, task_ids: list[str]) -> list[str]:
    """The dispatcher found these ready tasks waiting for approval: each asks once (an
    ``approval_requested`` event, heard by subscribed chats). Returns the ids that asked now."""
    if not task_ids:
        return []
    now = ctx.now()
    asked = []
    with ctx.store.write() as tx:
        for tid in task_ids:
            task = store_tasks.get(tx.conn, tid, board)
            if task is None or task.approval is not None or task.status is not Status.READY:
                continue
            store_tasks.set_fields(tx.conn, tid, {"approval": "requested"})
            store_events.append(tx, board=board, task_id=tid, kind=ev.APPROVAL_REQUESTED, now=now,
                                payload={"assignee": task.assignee})
            asked.append(tid)
    return asked


def withdraw_in_tx(tx: Tx, board: str, task: Task, now: float, by: str | None, what: str) -> None:
    """The body or assignee changed after a person approved the start: the approval no longer
    covers what would run, so it is withdrawn (asked for again when the task is ready)."""
    values, withdrawn = moves.withdrawal(task, by, what)
    if values:
        store_tasks.set_fields(tx.conn, task.id, values)
    if withdrawn is not None:
        store_events.append(tx, board=board, task_id=task.id, kind=ev.APPROVAL_WITHDRAWN, now=now,
                            payload=withdrawn)


def note_diff(ctx: Ctx, board: str, task_id: str, run_id: int, diff: str) -> None:
    """The workspace's changes, taken when a review attempt starts, for the reviewer's context."""
    with ctx.store.write() as tx:
        run = store_runs.get(tx.conn, run_id)
        if run is None or run.task_id != task_id:
            return
        store_runs.set_fields(tx.conn, run_id, {"metadata": json.dumps({**(run.metadata or {}),
                                                                         "diff": diff})})
