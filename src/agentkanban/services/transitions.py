"""Status changes: the verbs (complete, block, unblock, archive) and direct moves."""

from __future__ import annotations

from typing import Any

from ..domain import events as ev
from ..domain.models import OUTCOME_BLOCKED, OUTCOME_COMPLETED, Task
from ..domain.statuses import DIRECT_TARGETS, RUNNING_ONLY_BY_CLAIM, Status, parse_status
from ..errors import InvalidTransition
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from . import moves, replay
from .base import Actor, Ctx
from .common import check_worker, close_open_run, load, promote, transition
from .moves import MAX_SUMMARY, Move, parse_metadata

__all__ = ["MAX_SUMMARY", "archive", "block", "complete", "parse_metadata", "promote_board",
           "set_status", "unblock"]


def _waiting(tx: Tx, task: Task) -> list[tuple[str, str, str]]:
    return [(p.id, p.title, p.status.value) for p in store_tasks.unsatisfied_parents(tx.conn, task.id)]


def apply(tx: Tx, board: str, task: Task, move: Move, now: float) -> None:
    """Write one move: the guarded status change, the attempt's end, the event, the knock-on."""
    transition(tx, task, move.to, now, move.values)
    run_id = close_open_run(tx, task, move.outcome, now, summary=move.summary, metadata=move.metadata)
    if run_id is None and move.attempt_if_unclaimed is not None:
        run_id = store_runs.open_run(tx.conn, move.attempt_if_unclaimed)
    store_events.append(tx, board=board, task_id=task.id, kind=move.event, now=now, run_id=run_id,
                        payload=move.payload)
    if move.releases:
        store_subs.remove_all_for_task(tx.conn, task.id)  # after the final message was owed
        promote(tx, board, now)
    if move.reopens:
        # A reopened parent holds its children back again.
        for cid in store_tasks.demote_ready_children(tx.conn, task.id, now):
            store_events.append(tx, board=board, task_id=cid, kind=ev.STATUS, now=now,
                                payload={"status": "todo", "reason": "parent_reopened"})


def set_status(ctx: Ctx, board: str, task_id: str, to: str | Status, *, actor: Actor) -> Task:
    """A direct move (drag and drop): triage, todo or ready; running only via a claim."""
    target = parse_status(to) if isinstance(to, str) else to
    if target not in DIRECT_TARGETS:
        if target is Status.RUNNING:
            raise InvalidTransition(RUNNING_ONLY_BY_CLAIM)
        raise InvalidTransition(
            f"'{target.value}' has its own verb (complete, block, archive); direct moves are to "
            "triage, todo or ready")
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        waiting = _waiting(tx, task) if target is Status.READY and task.status is not target else []
        move = moves.direct(task, target, actor, waiting)
        if move is None:
            return task
        apply(tx, board, task, move, now)
        return load(tx.conn, board, task.id)


def complete(ctx: Ctx, board: str, task_id: str, *, actor: Actor, result: str | None = None,
             summary: str | None = None, metadata: dict[str, Any] | str | None = None) -> Task:
    """Finish a task with its structured handoff; children waiting only on it become ready."""
    h = moves.handoff(result, summary, metadata)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if replay.already_ended(tx.conn, task, actor, OUTCOME_COMPLETED, Status.DONE):
            return task  # the same attempt completing again (a retry): nothing more to do
        check_worker(tx.conn, task, actor, "complete")
        apply(tx, board, task, moves.complete(task, actor, h, now), now)
        return load(tx.conn, board, task.id)


def block(ctx: Ctx, board: str, task_id: str, *, actor: Actor, reason: str | None = None) -> Task:
    now = ctx.now()
    with ctx.store.write() as tx:
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
        task = load(tx.conn, board, task_id)
        waiting = task.status is Status.BLOCKED and bool(_waiting(tx, task))
        apply(tx, board, task, moves.unblock(task, actor, waiting), now)
        return load(tx.conn, board, task.id)


def archive(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """Archive from any status; an open attempt ends as reclaimed; children stop waiting on it."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        apply(tx, board, task, moves.archive(task, actor), now)
        return load(tx.conn, board, task.id)


def promote_board(ctx: Ctx, board: str) -> list[str]:
    """Promote every todo task whose parents are all done or archived."""
    with ctx.store.write() as tx:
        return promote(tx, board, ctx.now())
