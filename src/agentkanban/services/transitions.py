"""Status changes: the verbs (complete, block, unblock, archive) and direct moves."""

from __future__ import annotations

from typing import Any

from ..domain.models import OUTCOME_BLOCKED, OUTCOME_COMPLETED, Task
from ..domain.statuses import DIRECT_TARGETS, Status
from ..errors import InvalidTransition, NotFound, UnknownCards, ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from . import moves, replay, review_moves
from .base import Actor, Ctx
from .common import (
    check_worker,
    close_open_run,
    demote_children,
    load,
    promote,
    promote_children,
    resolve_in,
    transition,
)
from .moves import MAX_SUMMARY, Move, parse_metadata
from .review_policy import policy

__all__ = ["MAX_SUMMARY", "archive", "block", "complete", "parse_metadata", "promote_board",
           "set_status", "unblock"]


def apply(tx: Tx, board: str, task: Task, move: Move, now: float) -> int | None:
    """The one write path of a status change: open the claim's attempt, compare-and-set the status
    (``UPDATE ... WHERE id = :id AND status = :expected``), end the open attempt, append the
    events, then the knock-on (subscriptions end; children promoted or demoted). Returns the
    attempt the events name."""
    values = moves.written(task, move)
    payload = move.payload
    opened = None
    if move.open_run is not None:
        opened = store_runs.open_run(tx.conn, move.open_run)
        values["current_run_id"] = opened
        payload = {**(payload or {}), "run_id": opened}
    transition(tx, task, move.to, now, values, claim=opened is not None)
    run_id = opened
    if move.outcome is not None:
        run_id = close_open_run(tx, task, move.outcome, now, summary=move.summary,
                                metadata=move.metadata, error=move.error)
        if run_id is None and move.attempt_if_unclaimed is not None:
            run_id = store_runs.open_run(tx.conn, move.attempt_if_unclaimed)
    elif opened is None:
        run_id = task.current_run_id
    store_events.append(tx, board=board, task_id=task.id, kind=move.event, now=now, run_id=run_id,
                        payload=payload)
    for kind, extra in move.then:
        store_events.append(tx, board=board, task_id=task.id, kind=kind, now=now, run_id=run_id,
                            payload=extra)
    if move.releases:
        store_subs.remove_all_for_task(tx.conn, task.id)  # after the final message was owed
        promote_children(tx, board, [task.id], now)
    if move.reopens:
        # A reopened parent holds its children back again.
        demote_children(tx, board, task.id, now, "parent_reopened")
    return run_id


def waiting_on(tx: Tx, task: Task) -> list[tuple[str, str, str]]:
    return [(p.id, p.title, p.status.value) for p in store_tasks.unsatisfied_parents(tx.conn, task.id)]


def move_in(tx: Tx, board: str, task: Task, target: Status, actor: Actor, now: float, *,
            handoff: moves.Handoff | None = None, reason: str | None = None) -> bool:
    """Decide (:func:`.moves.decide`) and write one status change inside ``tx``; False when there
    was nothing to do."""
    waiting = waiting_on(tx, task) if moves.needs_parents(task, target) else []
    move = moves.decide(task, target, actor, waiting=waiting, handoff=handoff, reason=reason, now=now)
    if move is None:
        return False
    apply(tx, board, task, move, now)
    return True


def set_status(ctx: Ctx, board: str, task_id: str, to: str | Status, *, actor: Actor) -> Task:
    """A direct move (drag and drop): triage, todo or ready; running only via a claim."""
    target = moves.api_target(to)
    if target not in DIRECT_TARGETS:
        raise InvalidTransition(
            f"'{target.value}' has its own verb (complete, block, archive); direct moves are to "
            "triage, todo or ready")
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        waiting = waiting_on(tx, task) if moves.needs_parents(task, target) else []
        move = moves.direct(task, target, actor, waiting)
        if move is None:
            return task
        apply(tx, board, task, move, now)
        return load(tx.conn, board, task.id)


def complete(ctx: Ctx, board: str, task_id: str, *, actor: Actor, result: str | None = None,
             summary: str | None = None, metadata: dict[str, Any] | str | None = None,
             created_cards: list[str] | None = None, artifacts: list[str] | None = None) -> Task:
    """Finish a task with its structured handoff; children waiting only on it become ready.

    ``created_cards``: ids (or prefixes) of the follow-up tasks made while working on it, each
    checked to exist on the board (:class:`UnknownCards` names those that do not);
    ``artifacts``: paths or URLs of what was produced. Both land in the handoff's metadata.
    """
    h = moves.handoff(result, summary, metadata, artifacts)
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        if replay.already_ended(tx.conn, task, actor, OUTCOME_COMPLETED, tuple(Status)):
            return task  # the same attempt completing again (a retry): nothing more to do
        check_worker(tx.conn, task, actor, "complete")
        if created_cards:
            h = h.with_cards(cards_in(tx, board, created_cards))
        apply(tx, board, task, completion(ctx, task, actor, h, now), now)
        return load(tx.conn, board, task.id)


_VERB_HINT = "end this attempt with `kanban approve` or `kanban request-changes --reason ...`"


def completion(ctx: Ctx, task: Task, actor: Actor, h: moves.Handoff, now: float) -> Move:
    """What a complete does: a worker's checked work waits in review (docs/review.md); the rest
    is done. A profile with ``require_summary`` refuses a worker's empty summary."""
    if task.status is Status.REVIEW and actor.is_worker:
        raise InvalidTransition(f"this attempt checks the work of {task.id}; {_VERB_HINT}")
    pol = policy(ctx.settings, task)
    if actor.is_worker and pol.require_summary and not (h.summary or "").strip():
        raise ValidationError(f"profile {task.assignee!r} requires a summary of the work: complete "
                              "with --summary \"what was done and how to check it\"")
    if actor.is_worker and pol.checked and task.status is Status.RUNNING:
        return review_moves.submit(task, actor, h, pol)
    return moves.complete(task, actor, h, now)


def cards_in(tx: Tx, board: str, refs: list[str]) -> list[str]:
    found, missing = [], []
    for ref in refs:
        try:
            found.append(load(tx.conn, board, resolve_in(tx.conn, board, str(ref))).id)
        except (NotFound, ValidationError):
            missing.append(str(ref))
    if missing:
        raise UnknownCards(f"created_cards lists tasks that do not exist on board {board!r}: "
                           f"{', '.join(missing)}", missing)
    return found


def block(ctx: Ctx, board: str, task_id: str, *, actor: Actor, reason: str | None = None) -> Task:
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        if replay.already_ended(tx.conn, task, actor, OUTCOME_BLOCKED, Status.BLOCKED):
            return task
        check_worker(tx.conn, task, actor, "block")
        apply(tx, board, task, moves.block(task, actor, reason), now)
        return load(tx.conn, board, task.id)


def unblock(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """Blocked -> ready, or todo while a parent is not done. Resets the failure counter."""
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        waiting = task.status is Status.BLOCKED and bool(waiting_on(tx, task))
        apply(tx, board, task, moves.unblock(task, actor, waiting), now)
        return load(tx.conn, board, task.id)


def archive(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """Archive from any status; an open attempt ends as reclaimed; children stop waiting on it."""
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        apply(tx, board, task, moves.archive(task, actor), now)
        return load(tx.conn, board, task.id)


def promote_board(ctx: Ctx, board: str) -> list[str]:
    """Promote every todo task whose parents are all done or archived."""
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        return promote(tx, board, ctx.now())
