"""What the dispatcher reads and writes each pass, beyond the attempt verbs in :mod:`.runs`.

Reads are grouped so one pass over a board costs a handful of indexed queries; every write is one
transaction with its event, like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import events as ev
from ..domain.models import Run, Task
from ..domain.statuses import Status
from ..errors import Conflict
from ..store import boards as store_boards
from ..store import dialect
from ..store import events as store_events
from ..store import runners as store_runners
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from . import attempts, review
from .base import Actor, Ctx
from .common import clean_assignee, load
from .runs import Claim, claim_in_tx
from .transitions import apply


@dataclass(frozen=True)
class BoardSnapshot:
    """One consistent read of what a pass over a board needs."""

    open_runs: list[Run]
    ready: list[tuple[str, str | None, bool]]  # (task id, assignee, has a failure) in dispatch order
    checks: list[Task] = field(default_factory=list)  # in review, waiting for a check's attempt
    unapproved: dict[str, str | None] = field(default_factory=dict)  # ready, waiting for approval
    # Ready tasks only a runner may take: the labels each requires (its own ``runs_on`` and its
    # profile's); the local dispatcher leaves them alone.
    runs_on: dict[str, tuple[str, ...]] = field(default_factory=dict)


def active_boards(ctx: Ctx) -> list[str]:
    with ctx.store.read() as conn:
        return sorted(b.slug for b in store_boards.all_boards(conn))


def snapshot(ctx: Ctx, board: str) -> BoardSnapshot:
    with ctx.store.read() as conn:
        ready = store_tasks.ready_queue(conn, board)
        return BoardSnapshot(
            open_runs=store_runs.open_for_board(conn, board),
            ready=ready,
            checks=store_tasks.awaiting_checks(conn, board),
            unapproved=store_tasks.unapproved_ready(conn, board, approval_gated(ctx)),
            runs_on=required_labels(ctx, ready, store_runners.runs_on_ready(conn, board)),
        )


def approval_gated(ctx: Ctx) -> list[str]:
    """Profiles whose tasks wait for a person's approval before they start."""
    return [n.strip().lower() for n, p in ctx.settings.profiles.items() if p.requires_approval]


def profile_runs_on(ctx: Ctx) -> dict[str, tuple[str, ...]]:
    """The labels each runner-only profile requires (profiles with ``runs_on``)."""
    return {n.strip().lower(): tuple(p.runs_on) for n, p in ctx.settings.profiles.items() if p.runs_on}


def required_labels(ctx: Ctx, ready: list[tuple[str, str | None, bool]],
                    own: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The runner labels each of ``ready`` requires: its own ``runs_on`` and its profile's."""
    bound = profile_runs_on(ctx)
    if not bound:
        return own
    out = dict(own)
    for tid, assignee, _failed in ready:
        need = bound.get(assignee or "")
        if need:
            out[tid] = tuple(sorted({*need, *own.get(tid, ())}))
    return out


def open_runs(ctx: Ctx, board: str) -> list[Run]:
    with ctx.store.read() as conn:
        return store_runs.open_for_board(conn, board)


def open_counts(ctx: Ctx) -> tuple[dict[str, int], dict[str, int]]:
    """Running attempts per profile (every board) and per board."""
    with ctx.store.read() as conn:
        return store_runs.open_counts(conn)


def last_closed_runs(ctx: Ctx, task_ids: list[str]) -> dict[str, Run]:
    with ctx.store.read() as conn:
        return store_runs.last_closed(conn, task_ids)


def last_runs(ctx: Ctx, task_ids: list[str]) -> dict[str, Run]:
    """The most recent attempt of each task, open or closed."""
    with ctx.store.read() as conn:
        return store_runs.last_of(conn, task_ids)


def get_runs(ctx: Ctx, run_ids: list[int]) -> dict[int, Run]:
    with ctx.store.read() as conn:
        return store_runs.get_many(conn, run_ids)


def workspace_owners(ctx: Ctx, task_ids: list[str]) -> tuple[dict[str, tuple[str, float]], set[str]]:
    """For a workspace sweep: each task's ``(status, updated_at)`` and which still have open children."""
    with ctx.store.read() as conn:
        return store_tasks.statuses(conn, task_ids), store_tasks.open_children(conn, task_ids)


def claim_capped(ctx: Ctx, board: str, task_id: str, *, profile: str, lock: str, ttl: float,
                 max_runtime: int | None = None, profile_cap: int | None = None,
                 board_cap: int | None = None,
                 provider: tuple[str, list[str], int] | None = None) -> Claim | None:
    """:func:`runs.claim`, refused when the board, the profile's provider (``(name, its profiles,
    its max_concurrency)``) or the profile is already at its cap.

    The caps are counted inside the claiming transaction while it holds the cap's lock (SQLite:
    the write lock; PostgreSQL: a lock per board, provider and profile, taken in that order), so
    several dispatchers can never together exceed a cap. A task another dispatcher is claiming
    right now is skipped, not waited on.
    """
    with ctx.store.write() as tx:
        if not store_tasks.lock_unless_taken(tx.conn, task_id):
            return None
        if board_cap is not None:
            dialect.lock_key(tx.conn, "cap", "board", board)
        if provider is not None:
            dialect.lock_key(tx.conn, "cap", "provider", provider[0])
        if profile_cap is not None:
            dialect.lock_key(tx.conn, "cap", "profile", profile)
        # Read the clock once the locks are held: an attempt that ended just before must
        # never look as if it overlapped this one in the run history.
        now = ctx.now()
        if profile_cap is not None and store_runs.running_count(tx.conn, profile=profile) >= profile_cap:
            return None
        if board_cap is not None and store_runs.running_count(tx.conn, board=board) >= board_cap:
            return None
        if provider is not None and store_runs.running_count(tx.conn, profiles=provider[1]) >= provider[2]:
            return None
        return claim_in_tx(tx, board, task_id, profile=profile, lock=lock, ttl=ttl,
                           max_runtime=max_runtime, now=now)


def extend_lease(ctx: Ctx, board: str, task_id: str, run_id: int, *, ttl: float,
                 pid: int | None = None) -> bool:
    """The dispatcher vouches for a worker it can see alive: push its lease forward."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if task.current_run_id != run_id or not attempts.has_open_attempt(task):
            return False
        store_tasks.set_fields(tx.conn, task.id, {"claim_expires": now + ttl})
        store_runs.set_fields(tx.conn, run_id, {"claim_expires": now + ttl})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.HEARTBEAT, now=now,
                            run_id=run_id, payload={"by": "dispatcher", "pid": pid,
                                                    "note": "worker process alive; lease extended"})
        return True


def reassign(ctx: Ctx, board: str, task_id: str, assignee: str | None, *, actor: Actor,
             reclaim: bool = False) -> tuple[Task, int | None]:
    """Give a task to another profile; with ``reclaim`` a running attempt ends first, atomically.

    Returns the task and the pid of the worker whose attempt was ended (for the caller to stop).
    """
    who = clean_assignee(assignee)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        pid = None
        if task.status is Status.RUNNING:
            if not reclaim:
                raise Conflict(f"task {task.id} is running; add --reclaim to end its attempt first")
            pid = task.worker_pid
            apply(tx, board, task, attempts.reclaim(
                task, error=f"reassigned to {who or '(nobody)'} by {actor.name}",
                payload={"reason": "reassigned", "by": actor.name}), now)
        if who != task.assignee:
            review.withdraw_in_tx(tx, board, task, now, actor.name, "assignee")
        store_tasks.set_fields(tx.conn, task.id, {
            "assignee": who, "consecutive_failures": 0, "last_failure_error": None, "updated_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.ASSIGNED, now=now,
                            payload={"assignee": who, "by": actor.name})
        return load(tx.conn, board, task.id), pid
