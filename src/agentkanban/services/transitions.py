"""Status changes: the verbs (complete, block, unblock, archive) and direct moves."""

from __future__ import annotations

import json
from typing import Any

from ..domain import events as ev
from ..domain.models import OUTCOME_BLOCKED, OUTCOME_COMPLETED, OUTCOME_RECLAIMED, Task
from ..domain.statuses import (
    DIRECT_TARGETS,
    PARENT_SATISFIED,
    RUNNING_ONLY_BY_CLAIM,
    Status,
    parse_status,
)
from ..errors import Conflict, InvalidTransition, ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from .base import Actor, Ctx
from .common import CLEAR_CLAIM, check_worker, clean_body, close_open_run, load, promote, transition

MAX_SUMMARY = 100_000


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
    return raw


def _parents_gate(tx: Tx, task: Task) -> Status:
    return Status.TODO if store_tasks.unsatisfied_parents(tx.conn, task.id) else Status.READY


def _blocking_message(tx: Tx, task: Task) -> str | None:
    waiting = store_tasks.unsatisfied_parents(tx.conn, task.id)
    if not waiting:
        return None
    names = ", ".join(f"{p.id} {p.title!r} (status={p.status.value})" for p in waiting)
    return f"cannot move {task.id} to 'ready': waiting on parent(s) not done: {names}"


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
        if task.status is target:
            return task
        if target is Status.READY:
            msg = _blocking_message(tx, task)
            if msg:
                raise Conflict(msg)
        transition(tx, task, target, now, {**CLEAR_CLAIM, "completed_at": None})
        run_id = close_open_run(tx, task, OUTCOME_RECLAIMED, now,
                                summary=f"status changed to {target.value} by {actor.name}")
        store_events.append(tx, board=board, task_id=task.id, kind=ev.STATUS, now=now,
                            run_id=run_id, payload={"status": target.value, "by": actor.name})
        if task.status in PARENT_SATISFIED:
            # A reopened parent holds its children back again.
            for cid in store_tasks.demote_ready_children(tx.conn, task.id, now):
                store_events.append(tx, board=board, task_id=cid, kind=ev.STATUS, now=now,
                                    payload={"status": "todo", "reason": "parent_reopened"})
        return load(tx.conn, board, task.id)


def complete(ctx: Ctx, board: str, task_id: str, *, actor: Actor, result: str | None = None,
             summary: str | None = None, metadata: dict[str, Any] | str | None = None) -> Task:
    """Finish a task with its structured handoff; children waiting only on it become ready."""
    meta = parse_metadata(metadata)
    result = clean_body(result)
    summary = (summary or "").strip() or (result or "").strip() or None
    if summary and len(summary) > MAX_SUMMARY:
        raise ValidationError(f"summary is too long (at most {MAX_SUMMARY} characters)")
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        check_worker(tx.conn, task, actor, "complete")
        if task.status is Status.DONE:
            raise InvalidTransition(f"task {task.id} is already done")
        values: dict[str, Any] = {**CLEAR_CLAIM, "completed_at": now, "consecutive_failures": 0,
                                  "last_failure_error": None}
        if result is not None:
            values["result"] = result
        transition(tx, task, Status.DONE, now, values)
        if task.current_run_id is not None:
            run_id: int | None = close_open_run(tx, task, OUTCOME_COMPLETED, now, summary=summary,
                                                metadata=meta)
        else:  # never claimed: record a zero-length attempt so the handoff has a home
            run_id = store_runs.open_run(tx.conn, {
                "task_id": task.id, "board": board, "profile": task.assignee or actor.name,
                "status": OUTCOME_COMPLETED, "outcome": OUTCOME_COMPLETED, "started_at": now,
                "ended_at": now, "summary": summary,
                "metadata": json.dumps(meta) if meta is not None else None})
        first_line = (summary or "").splitlines()[0][:400] if summary else None
        store_events.append(tx, board=board, task_id=task.id, kind=ev.COMPLETED, now=now,
                            run_id=run_id, payload={"summary": first_line,
                                                    "result_len": len(result or "")})
        store_subs.remove_all_for_task(tx.conn, task.id)  # after the final message was owed
        promote(tx, board, now)
        return load(tx.conn, board, task.id)


def block(ctx: Ctx, board: str, task_id: str, *, actor: Actor, reason: str | None = None) -> Task:
    reason = (reason or "").strip() or None
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        check_worker(tx.conn, task, actor, "block")
        if task.status is Status.BLOCKED:
            raise InvalidTransition(f"task {task.id} is already blocked")
        transition(tx, task, Status.BLOCKED, now, dict(CLEAR_CLAIM))
        run_id = close_open_run(tx, task, OUTCOME_BLOCKED, now, summary=reason)
        store_events.append(tx, board=board, task_id=task.id, kind=ev.BLOCKED, now=now,
                            run_id=run_id, payload={"reason": reason, "by": actor.name})
        return load(tx.conn, board, task.id)


def unblock(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """Blocked -> ready, or todo while a parent is not done. Resets the failure counter."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.status is not Status.BLOCKED:
            raise InvalidTransition(f"task {task.id} is {task.status.value}, not blocked")
        target = _parents_gate(tx, task)
        transition(tx, task, target, now, {**CLEAR_CLAIM, "consecutive_failures": 0,
                                           "last_failure_error": None})
        run_id = close_open_run(tx, task, OUTCOME_RECLAIMED, now, summary="unblocked")
        store_events.append(tx, board=board, task_id=task.id, kind=ev.UNBLOCKED, now=now,
                            run_id=run_id, payload={"status": target.value, "by": actor.name})
        return load(tx.conn, board, task.id)


def archive(ctx: Ctx, board: str, task_id: str, *, actor: Actor) -> Task:
    """Archive from any status; an open attempt ends as reclaimed; children stop waiting on it."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.status is Status.ARCHIVED:
            raise InvalidTransition(f"task {task.id} is already archived")
        transition(tx, task, Status.ARCHIVED, now, dict(CLEAR_CLAIM))
        run_id = close_open_run(tx, task, OUTCOME_RECLAIMED, now, summary="archived")
        store_events.append(tx, board=board, task_id=task.id, kind=ev.ARCHIVED, now=now,
                            run_id=run_id, payload={"by": actor.name})
        store_subs.remove_all_for_task(tx.conn, task.id)
        promote(tx, board, now)
        return load(tx.conn, board, task.id)


def promote_board(ctx: Ctx, board: str) -> list[str]:
    """Promote every todo task whose parents are all done or archived."""
    with ctx.store.write() as tx:
        return promote(tx, board, ctx.now())
