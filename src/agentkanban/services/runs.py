"""Attempts: claiming a ready task, heartbeats, and how an attempt ends when it does not finish."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from ..domain import events as ev
from ..domain.models import Run, Task
from ..domain.statuses import Status
from ..errors import InvalidTransition, Unauthorized, ValidationError
from ..ids import new_run_token
from ..store import Tx
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from ..store import usage as store_usage
from . import attempts
from .base import Actor, Ctx, hash_token
from .common import check_worker, load
from .sessions import checkpoint_in_tx, clean_data
from .transitions import apply

MAX_ERROR = 2000


@dataclass(frozen=True)
class Claim:
    task: Task
    run_id: int
    token: str  # handed to the worker once; only its hash is stored


def claim(ctx: Ctx, board: str, task_id: str, *, profile: str, lock: str, ttl: float,
          max_runtime: int | None = None) -> Claim | None:
    """Compare-and-set ``ready -> running`` opening a run; None when the task is not claimable."""
    now = ctx.now()
    with ctx.store.write() as tx:
        return claim_in_tx(tx, board, task_id, profile=profile, lock=lock, ttl=ttl,
                           max_runtime=max_runtime, now=now)


def claim_in_tx(tx: Tx, board: str, task_id: str, *, profile: str, lock: str, ttl: float,
                max_runtime: int | None, now: float) -> Claim | None:
    """The body of :func:`claim`, for callers that check more inside the same transaction."""
    task = load(tx.conn, board, task_id)
    token = new_run_token()
    move = attempts.claim(task, profile=profile, lock=lock, ttl=ttl, max_runtime=max_runtime,
                          token_hash=hash_token(token), now=now)
    if move is None:
        return None
    if task.status is Status.READY and store_tasks.unsatisfied_parents(tx.conn, task.id):
        apply(tx, board, task, attempts.gate(task, "parents_not_done"), now)
        return None
    run_id = apply(tx, board, task, move, now)
    assert run_id is not None
    return Claim(load(tx.conn, board, task.id), run_id, token)


def set_worker(ctx: Ctx, board: str, task_id: str, run_id: int, *, pid: int,
               workspace_path: str | None = None) -> bool:
    """Record the spawned worker's pid (and resolved workspace) on the still-current attempt."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.current_run_id != run_id:
            return False
        values: dict[str, Any] = {"worker_pid": pid}
        if workspace_path is not None:
            values["workspace_path"] = workspace_path
        store_tasks.set_fields(tx.conn, task.id, values)
        store_runs.set_fields(tx.conn, run_id, {"worker_pid": pid})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.SPAWNED, now=now,
                            run_id=run_id, payload={"pid": pid})
        return True


def parse_progress(value: Any) -> tuple[int, int] | None:
    """A worker's progress as ``(done, total)``: ``"3/12"``, ``[3, 12]`` or ``{"done": 3, "total":
    12}``; None for none. 0 <= done <= total, total >= 1."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            done_s, total_s = value.strip().split("/")
            done, total = int(done_s), int(total_s)
        elif isinstance(value, dict):
            done, total = value["done"], value["total"]
        else:
            done, total = value
        if isinstance(done, bool) or isinstance(total, bool):
            raise TypeError
        done, total = int(done), int(total)
    except (ValueError, TypeError, KeyError):
        raise ValidationError(f"progress must be DONE/TOTAL, such as 3/12 (got {str(value)[:40]!r})") from None
    if total < 1 or not 0 <= done <= total or total > 10**9:
        raise ValidationError(f"progress {done}/{total}: DONE must be between 0 and TOTAL, and TOTAL at least 1")
    return done, total


def heartbeat(ctx: Ctx, board: str, task_id: str, *, actor: Actor, note: str | None = None,
              ttl: float | None = None, data: Any = None, progress: Any = None) -> Task:
    """Extend the lease of the running attempt and say the worker is alive. A note or data is
    also the attempt's latest checkpoint, shown to later attempts; ``progress`` (``"3/12"``) is
    shown on the card as a bar."""
    stored = clean_data(data)
    steps = parse_progress(progress)
    ttl = ttl or ctx.settings.dispatch.claim_ttl_seconds
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        check_worker(tx.conn, task, actor, "heartbeat")
        if not attempts.has_open_attempt(task) or task.current_run_id is None:
            raise InvalidTransition(f"task {task.id} is {task.status.value}; only a running task heartbeats")
        store_tasks.set_fields(tx.conn, task.id, {"last_heartbeat_at": now, "claim_expires": now + ttl})
        store_runs.set_fields(tx.conn, task.current_run_id,
                              {"last_heartbeat_at": now, "claim_expires": now + ttl})
        note = (note or "").strip()[:500] or None
        checkpoint_in_tx(tx, task.current_run_id, task.id, note, stored, now)
        payload: dict[str, Any] = {"note": note} if note else {}
        if steps is not None:
            store_usage.set_state(tx.conn, task.current_run_id, task.id,
                                  {"progress_done": steps[0], "progress_total": steps[1]})
            payload["progress"] = {"done": steps[0], "total": steps[1]}
        store_events.append(tx, board=board, task_id=task.id, kind=ev.HEARTBEAT, now=now,
                            run_id=task.current_run_id, payload=payload or None)
        return load(tx.conn, board, task.id)


def end_attempt(ctx: Ctx, board: str, task_id: str, run_id: int, *, outcome: str,
                error: str | None, count_failure: bool, failure_limit: int,
                payload: dict[str, Any] | None = None) -> Task | None:
    """Close an attempt that did not finish (crash, timeout, spawn failure, rate limit, lease
    expiry) and put the task back to ready, or to blocked with ``gave_up`` once the failure
    counter reaches the task's ``max_retries`` or the configured limit.

    Returns None when ``run_id`` is no longer the task's current attempt (already handled).
    """
    error = (error or "")[:MAX_ERROR] or None
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.current_run_id != run_id or not attempts.has_open_attempt(task):
            return None
        apply(tx, board, task, attempts.end(task, outcome=outcome, error=error,
                                            count_failure=count_failure,
                                            failure_limit=failure_limit, payload=payload), now)
        return load(tx.conn, board, task.id)


def reclaim(ctx: Ctx, board: str, task_id: str, *, actor: Actor,
            reason: str | None = None) -> tuple[Task, int | None]:
    """Operator: end the current attempt and put the task back to ready.

    Returns the task and the pid of the worker that was running it (for the caller to stop).
    """
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        apply(tx, board, task, attempts.reclaim(
            task, error=f"manual reclaim by {actor.name}: {reason or 'no reason given'}",
            payload={"reason": reason, "by": actor.name}), now)
        return load(tx.conn, board, task.id), task.worker_pid


def worker_actor(ctx: Ctx, run_id: str | int, token: str) -> tuple[Actor, str]:
    """The worker a run token proves, and its task's board: the run exists and ``token`` hashes
    to its stored hash (compared in constant time), else :class:`Unauthorized`. Whether the
    attempt is still current is the fencing's to say (:func:`.common.check_worker`), as for a
    local worker: a repeated ``complete`` of an ended attempt stays a no-op, anything else is
    refused as no longer current."""
    refused = Unauthorized("the run id and run token do not prove an attempt")
    try:
        rid = int(run_id)
    except (TypeError, ValueError):
        raise refused from None
    with ctx.store.read() as conn:
        run = store_runs.get(conn, rid)
        stored = store_runs.token_hash(conn, rid) if run is not None else None
        task = store_tasks.get(conn, run.task_id) if run is not None else None
    if run is None or task is None or not stored or \
            not hmac.compare_digest(stored.encode(), hash_token(token or "").encode()):
        raise refused
    actor = Actor(name=run.profile or "worker", worker_task=task.id, run_id=rid, run_token=token)
    return actor, task.board


def list_runs(ctx: Ctx, board: str, task_id: str) -> list[Run]:
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        return store_runs.for_task(conn, task.id)
