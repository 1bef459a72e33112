"""Helpers shared by the task services: loading, id resolution, guarded transitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..domain import events as ev
from ..domain.models import Task
from ..domain.statuses import Status, check_transition
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..ids import TASK_ID_RE
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from .base import Actor, Ctx, hash_token

MAX_TITLE = 500
MAX_BODY = 1_000_000


def resolve_id(ctx: Ctx, board: str, ref: str) -> str:
    """An exact id or any unique prefix of one (``t_3f`` or ``3f``) on this board."""
    if TASK_ID_RE.match((ref or "").strip()):
        return ref.strip()
    with ctx.store.read() as conn:
        return resolve_in(conn, board, ref)


def resolve_in(conn: Connection, board: str, ref: str) -> str:
    """:func:`resolve_id` inside a transaction the caller already holds."""
    ref = (ref or "").strip()
    if not ref:
        raise ValidationError("a task id is required")
    if TASK_ID_RE.match(ref):
        return ref
    prefix = ref if ref.startswith("t_") else "t_" + ref
    found = store_tasks.find_by_prefix(conn, board, prefix)
    if not found:
        raise NotFound(f"no task matches {ref!r} on board {board!r}")
    if len(found) > 1:
        raise ValidationError(f"{ref!r} is ambiguous ({', '.join(found)}, ...); type more of the id")
    return found[0]


def not_found(board: str, task_id: str) -> NotFound:
    return NotFound(f"task {task_id} not found on board {board!r}")


def load(conn: Connection, board: str, task_id: str) -> Task:
    task = store_tasks.get(conn, task_id, board)
    if task is None:
        raise not_found(board, task_id)
    return task


def clean_title(title: str | None) -> str:
    t = (title or "").strip()
    if not t:
        raise ValidationError("title cannot be empty")
    if len(t) > MAX_TITLE:
        raise ValidationError(f"title is too long ({len(t)} characters, at most {MAX_TITLE})")
    return t


def clean_body(body: str | None) -> str | None:
    if body is not None and len(body) > MAX_BODY:
        raise ValidationError(f"body is too long ({len(body)} characters, at most {MAX_BODY})")
    return body


def clean_assignee(assignee: str | None) -> str | None:
    a = (assignee or "").strip().lower()
    if len(a) > 128:
        raise ValidationError("assignee name is too long (at most 128 characters)")
    return a or None


def transition(tx: Tx, task: Task, to: Status, now: float, values: dict[str, Any] | None = None,
               *, claim: bool = False) -> None:
    """The compare-and-set under every status change: table check, then ``UPDATE ... WHERE id =
    :id AND status = :expected`` (called by :func:`.transitions.apply`, which adds the rest)."""
    check_transition(task.status, to, claim=claim)
    vals = {"updated_at": now, **(values or {})}
    if not store_tasks.cas_status(tx.conn, task.id, task.status, to, vals):
        raise Conflict(f"task {task.id} changed while this update was being made; reload and retry")


def stale_attempt(task_id: str) -> Forbidden:
    return Forbidden(f"this attempt is no longer current for {task_id} (it was reclaimed, "
                     "retried or ended); stop working on it")


def check_worker(conn: Connection, task: Task, actor: Actor, verb: str) -> None:
    """A worker may only act on its own task, and only during its own attempt (fencing)."""
    if not actor.is_worker:
        return
    if actor.worker_task != task.id:
        raise Forbidden(f"a worker may only {verb} its own task ({actor.worker_task}), not {task.id}")
    stale = stale_attempt(task.id)
    if task.current_run_id is None or actor.run_id != task.current_run_id or not actor.run_token:
        raise stale
    if store_runs.token_hash(conn, task.current_run_id) != hash_token(actor.run_token):
        raise stale


def _own_current(conn: Connection, board: str, actor: Actor, verb: str) -> Task:
    own = load(conn, board, actor.worker_task or "")
    check_worker(conn, own, actor, verb)
    return own


def check_worker_creates(conn: Connection, board: str, actor: Actor, parent_ids: list[str]) -> None:
    """A worker creates tasks only under its own task (as its children), during its attempt."""
    own = _own_current(conn, board, actor, "create tasks under")
    if own.id not in parent_ids:
        raise Forbidden(f"a worker may only create tasks under its own task: give {own.id} as a "
                        "parent (--parent)")


def check_worker_links(conn: Connection, board: str, actor: Actor, ids: list[str]) -> None:
    """A worker links only its own task and the tasks under it, during its attempt."""
    own = _own_current(conn, board, actor, "link")
    family = {own.id, *store_tasks.child_ids(conn, own.id)}
    strangers = [i for i in ids if i not in family]
    if strangers:
        raise Forbidden(f"a worker may only link its own task ({own.id}) and the tasks it "
                        f"created under it, not {strangers[0]}")


def _shifted(tx: Tx, board: str, ids: list[str], now: float, kind: str,
             payload: dict[str, Any] | None) -> list[str]:
    for tid in ids:
        store_events.append(tx, board=board, task_id=tid, kind=kind, now=now, payload=payload)
    return ids


def promote_children(tx: Tx, board: str, parent_ids: list[str], now: float) -> list[str]:
    """Waiting children of tasks that just finished, whose parents are now all done, become
    ready (with their events). Looks only at those parents' children."""
    store_tasks.lock_statuses(tx.conn, board)  # normally held since the start of the transaction
    return _shifted(tx, board, store_tasks.promote_children(tx.conn, parent_ids, now), now,
                    ev.PROMOTED, None)


def promote_tasks(tx: Tx, board: str, task_ids: list[str], now: float) -> list[str]:
    """Those of ``task_ids`` that wait in todo with every parent done become ready."""
    store_tasks.lock_statuses(tx.conn, board)
    return _shifted(tx, board, store_tasks.promote_ids(tx.conn, task_ids, now), now,
                    ev.PROMOTED, None)


def demote_children(tx: Tx, board: str, parent_id: str, now: float, reason: str) -> list[str]:
    """Ready children of ``parent_id`` that now wait on a parent go back to todo."""
    store_tasks.lock_statuses(tx.conn, board)
    return _shifted(tx, board, store_tasks.demote_ready_children(tx.conn, parent_id, now), now,
                    ev.STATUS, {"status": "todo", "reason": reason})


def promote(tx: Tx, board: str, now: float) -> list[str]:
    """The operator's sweep (``kanban promote``): every todo task of the board whose parents are
    all done, parked ones included. No write path runs it; its cost grows with the board."""
    store_tasks.lock_statuses(tx.conn, board)
    return _shifted(tx, board, store_tasks.promote_ready(tx.conn, board, now), now, ev.PROMOTED, None)


def close_open_run(tx: Tx, task: Task, outcome: str, now: float, *, summary: str | None = None,
                   metadata: dict[str, Any] | None = None, error: str | None = None) -> int | None:
    if task.current_run_id is None:
        return None
    store_runs.close(tx.conn, task.current_run_id, outcome=outcome, now=now, summary=summary,
                     metadata=metadata, error=error)
    return task.current_run_id


# Claim fields cleared whenever a task leaves ``running``.
CLEAR_CLAIM: dict[str, Any] = {
    "claim_lock": None, "claim_expires": None, "worker_pid": None, "current_run_id": None,
}
