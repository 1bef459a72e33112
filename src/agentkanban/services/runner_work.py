"""The work of a remote runner: claiming ready tasks on its behalf, keeping their leases, taking
in their workers' output and settling their attempts.

A claim is the local dispatcher's claim (:func:`.dispatching.claim_capped`: the same compare-and-
set, lease, run token and caps, counted in the same transaction across every runner and the local
dispatcher). Its claim lock names the runner (``runner/<name>:0:<nonce>``), which is how every
later call proves the attempt is still this runner's, and how the reaper knows to end it as
``runner_lost`` once its lease runs out. An exit is classified as a local worker's is
(:func:`.outcomes.classify`).
"""

from __future__ import annotations

import functools
import os
import secrets
from typing import Any

from ..domain.models import (
    OUTCOME_BLOCKED,
    OUTCOME_COMPLETED,
    OUTCOME_RECLAIMED,
    OUTCOME_SPAWN_FAILED,
    RUN_WORK,
    RUNNER_LOCK_PREFIX,
    Run,
    Runner,
    Task,
)
from ..errors import Conflict, Forbidden, NotFound, TooLarge, ValidationError
from ..store import runners as store_runners
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from . import backoff, budgets, dispatching, goals
from .base import Ctx
from .boards import log_file
from .outcomes import classify
from .runners import MAX_LOG_CHUNK, authenticate
from .runs import end_attempt

# Ended by the worker itself (``kanban complete``/``block``): its output and exit still count.
SETTLED_BY_WORKER = frozenset({OUTCOME_COMPLETED, OUTCOME_BLOCKED})
SEEN_EVERY = 5.0  # last_seen_at is written at most this often per runner
# A worker that completed or blocked its task itself may take this long to exit (as the local
# dispatcher's EXIT_GRACE_SECONDS) before its lease extension is refused and the runner stops it.
EXIT_GRACE_SECONDS = 30.0


def _lock(runner: Runner) -> str:
    return f"{RUNNER_LOCK_PREFIX}{runner.name}:0:{secrets.token_hex(4)}"


def _seen_due(runner: Runner, now: float) -> bool:
    return runner.last_seen_at is None or now - runner.last_seen_at >= SEEN_EVERY


def claim(ctx: Ctx, token: str | None, slots: int) -> list[dict[str, Any]]:
    """Claim up to ``slots`` ready tasks the runner may run (and its free capacity allows)."""
    runner = authenticate(ctx, token)
    if runner.registered_at is None:
        raise Conflict(f"runner {runner.name} has not registered yet: register first")
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise ValidationError("slots must be a whole number of at least 1")
    now = ctx.now()
    if _seen_due(runner, now):  # a write, at most every SEEN_EVERY seconds
        with ctx.store.write() as tx:
            store_runners.set_fields(tx.conn, runner.name, {"last_seen_at": now})
    with ctx.store.read() as conn:
        free = min(slots, runner.capacity - len(store_runners.open_runs(conn, runner.name)))
    work: list[dict[str, Any]] = []
    if free <= 0 or not runner.profiles:
        return work
    for board in dispatching.active_boards(ctx):
        work += _claim_on(ctx, runner, board, free - len(work))
        if len(work) >= free:
            break
    return work


READY_PAGE = 64  # ready tasks a claim reads at a time: its cost does not grow with the queue


def _page(ctx: Ctx, runner: Runner, board: str, offset: int) -> list[tuple[str, str | None, bool]]:
    """``READY_PAGE`` of the board's unclaimed ready tasks of this runner's profiles, in dispatch
    order (the part of the dispatcher's snapshot a claim uses)."""
    with ctx.store.read() as conn:
        return store_tasks.ready_queue(conn, board, assignees=sorted(runner.profiles),
                                       limit=READY_PAGE, offset=offset)


def _claim_on(ctx: Ctx, runner: Runner, board: str, free: int) -> list[dict[str, Any]]:
    page = _page(ctx, runner, board, 0)
    if not page:  # nothing for its profiles: nothing more is read
        return []
    with ctx.store.read() as conn:  # the few ready tasks held back, read once for every page
        unapproved = store_tasks.unapproved_ready(conn, board, dispatching.approval_gated(ctx))
        own = store_runners.runs_on_ready(conn, board)
    labels = set(runner.labels)
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        need = dispatching.required_labels(ctx, page, own)
        ready = [(tid, a or "", failed) for tid, a, failed in page
                 if tid not in unapproved and set(need.get(tid, ())) <= labels]
        claimed = _claim_page(ctx, runner, board, ready, free - len(out)) if ready else []
        out += claimed
        if len(out) >= free or len(page) < READY_PAGE:
            return out
        offset += READY_PAGE - len(claimed)  # what it claimed has left the queue
        page = _page(ctx, runner, board, offset)


def _claim_page(ctx: Ctx, runner: Runner, board: str, ready: list[tuple[str, str, bool]],
                free: int) -> list[dict[str, Any]]:
    settings = ctx.settings
    profiles = {name.strip().lower(): p for name, p in settings.profiles.items()}
    by_profile, _by_board = dispatching.open_counts(ctx)
    gate = budgets.gate(ctx, board, by_profile)
    cooling = backoff.waiting(ctx, [tid for tid, _a, failed in ready if failed])
    out: list[dict[str, Any]] = []
    for tid, assignee, _failed in ready:
        if tid in cooling or tid in gate.over_limit or gate.refuse(assignee) is not None:
            continue
        profile = profiles.get(assignee)
        got = ctx.retry.run(functools.partial(
            dispatching.claim_capped, ctx, board, tid, profile=assignee, lock=_lock(runner),
            ttl=settings.dispatch.claim_ttl_seconds,
            max_runtime=profile.max_runtime if profile else None,
            profile_cap=profile.max_concurrency if profile else None,
            board_cap=settings.dispatch.max_in_progress, provider=budgets.provider_cap(ctx, assignee)))
        if got is None:
            continue
        gate.started(assignee)
        task = got.task
        _append(ctx, board, task.id, f"=== attempt {got.run_id} by profile {assignee} on runner "
                                     f"{runner.name}\n".encode())
        out.append({
            "run_id": got.run_id, "run_token": got.token, "task_id": task.id, "board": board,
            "profile": assignee, "kind": RUN_WORK, "title": task.title,
            "max_runtime_seconds": profile.max_runtime if profile else None,
            "lease_expires": task.claim_expires, "placeholders": goals.placeholders(task),
            "env": goals.worker_env(task)})
        if len(out) >= free:
            break
    return out


def runs_on(ctx: Ctx, task_id: str) -> list[str]:
    """The labels a task requires of the runner that takes it (its own ``runs_on``)."""
    with ctx.store.read() as conn:
        return list(store_runners.runs_on(conn, task_id))


def release(ctx: Ctx, work: list[dict[str, Any]]) -> None:
    """Hand back attempts just claimed for a runner that is no longer there to be told (its long
    poll was closed before the answer): the tasks are ready again at once, nothing is counted."""
    for item in work:
        ctx.retry.run(functools.partial(
            end_attempt, ctx, item["board"], item["task_id"], item["run_id"], outcome=OUTCOME_RECLAIMED,
            error="the runner left before its claim was answered", count_failure=False,
            failure_limit=ctx.settings.dispatch.failure_limit, payload={"reason": "claim_unanswered"}))


def _held(conn: Any, runner: Runner, run_id: int) -> tuple[Run, Task]:
    """The run and its task, when the run was claimed by this runner (else NotFound/Forbidden)."""
    run = store_runs.get(conn, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    if not (run.claim_lock or "").startswith(runner.lock_prefix):
        raise Forbidden(f"run {run_id} is not runner {runner.name}'s")
    task = store_tasks.get(conn, run.task_id)
    if task is None:
        raise NotFound(f"run {run_id}'s task is gone")
    return run, task


def _gone(run: Run) -> Conflict:
    return Conflict(f"attempt {run.id} of task {run.task_id} was ended ({run.outcome or 'reclaimed'}); "
                    "its worker must stop, and nothing it reports counts any more")


def _current(run: Run, task: Task) -> bool:
    return run.ended_at is None and task.current_run_id == run.id


def extend(ctx: Ctx, token: str | None, run_id: int) -> dict[str, Any]:
    """Push the lease of a live attempt forward; 409 when the attempt is no longer this runner's.
    An attempt its worker completed or blocked itself has no lease left to extend, but its worker
    is let be for EXIT_GRACE_SECONDS to exit, ship its output and be reported."""
    runner = authenticate(ctx, token)
    now = ctx.now()
    expires = now + ctx.settings.dispatch.claim_ttl_seconds
    with ctx.store.write() as tx:
        run, task = _held(tx.conn, runner, run_id)
        if not _current(run, task):
            if run.outcome in SETTLED_BY_WORKER and run.ended_at is not None \
                    and now - run.ended_at < EXIT_GRACE_SECONDS:
                return {"lease_expires": None, "settled": run.outcome}
            raise _gone(run)
        store_tasks.set_fields(tx.conn, task.id, {"claim_expires": expires})
        store_runs.set_fields(tx.conn, run.id, {"claim_expires": expires})
        if _seen_due(runner, now):
            store_runners.set_fields(tx.conn, runner.name, {"last_seen_at": now})
    return {"lease_expires": expires}


def append_log(ctx: Ctx, token: str | None, run_id: int, chunk: bytes) -> dict[str, Any]:
    """Add a chunk of the worker's output to the task's log (what ``kanban log`` and the
    dashboard show). Taken while the attempt is open, or ended by the worker itself."""
    runner = authenticate(ctx, token)
    if len(chunk) > MAX_LOG_CHUNK:
        raise TooLarge(f"a log chunk is at most {MAX_LOG_CHUNK} bytes (got {len(chunk)})")
    with ctx.store.read() as conn:
        run, task = _held(conn, runner, run_id)
    if not _current(run, task) and run.outcome not in SETTLED_BY_WORKER:
        raise _gone(run)
    return {"size": _append(ctx, task.board, task.id, chunk)}


def _append(ctx: Ctx, board: str, task_id: str, data: bytes) -> int:
    path = log_file(ctx, board, task_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def report_exit(ctx: Ctx, token: str | None, run_id: int, *, exit_code: int | None,
                timed_out: bool, spawn_error: str | None) -> dict[str, Any]:
    """Settle an attempt whose worker is gone: the outcome it was given."""
    runner = authenticate(ctx, token)
    if exit_code is None and not spawn_error:
        raise ValidationError("an exit report names the worker's exit_code, or the spawn_error "
                              "that kept it from starting")
    with ctx.store.read() as conn:
        run, task = _held(conn, runner, run_id)
    if not _current(run, task):
        if run.outcome in SETTLED_BY_WORKER:
            return {"outcome": run.outcome, "settled": True}
        raise _gone(run)
    who = f"worker on runner {runner.name}"
    if spawn_error:
        infra = backoff.is_infrastructure(spawn_error)
        detail = spawn_error.removeprefix(backoff.INFRASTRUCTURE)[:1000]
        outcome, counted = OUTCOME_SPAWN_FAILED, not infra
        error = (backoff.INFRASTRUCTURE if infra else "") + \
            f"spawn failed on runner {runner.name} (profile {run.profile!r}): {detail}"
    else:
        outcome, error, counted = classify(exit_code, who, run, ctx.now(), timed_out)
    ended = end_attempt(ctx, task.board, task.id, run.id, outcome=outcome, error=error,
                        count_failure=counted, failure_limit=ctx.settings.dispatch.failure_limit,
                        payload={"runner": runner.name, "exit_code": exit_code})
    if ended is None:  # ended meanwhile (by the worker, the reaper or an operator)
        with ctx.store.read() as conn:
            run, _task = _held(conn, runner, run_id)
        if run.outcome in SETTLED_BY_WORKER:
            return {"outcome": run.outcome, "settled": True}
        raise _gone(run)
    return {"outcome": outcome, "settled": True}
