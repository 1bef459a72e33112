"""Watching running attempts: dead workers, runaway workers, expired leases, ended attempts.

A :class:`Reaper` belongs to one :class:`~.dispatcher.Dispatcher` and keeps its bookkeeping
(which workers it already asked to stop, and when; which live workers it adopted) on the
instance, beside that dispatcher's :class:`~.spawner.Spawner`. All of it is rebuilt from the
database and ``/proc`` after a restart; it only saves signals.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..domain import models as m
from ..domain.models import Run
from ..domain.statuses import Status
from ..services import Ctx, dispatching, runs
from ..services.outcomes import classify
from . import procs
from .spawner import Spawner

if TYPE_CHECKING:
    from .dispatcher import DispatchResult

log = logging.getLogger("agentkanban.dispatch")

# A worker that completed or blocked its own task gets this long to exit by itself.
EXIT_GRACE_SECONDS = 30.0


@dataclass
class _Stopping:
    pid: int
    reason: str  # timed_out | ended
    since: float  # monotonic
    killed: bool = False


def _escalate(stopping: _Stopping, grace: float) -> None:
    if not stopping.killed and time.monotonic() - stopping.since >= grace:
        procs.signal_group(stopping.pid, signal.SIGKILL)
        stopping.killed = True


class Reaper:
    """Settles the open attempts one dispatcher is responsible for."""

    def __init__(self, spawner: Spawner) -> None:
        self.spawner = spawner
        self._stopping: dict[int, _Stopping] = {}  # run id -> what we asked
        self._ended_seen: dict[int, float] = {}  # pid -> when we first saw its attempt ended elsewhere
        # Live workers this dispatcher watches but did not start (theirs died): pid -> attempt.
        self._adopted: dict[int, tuple[int, str, str]] = {}

    def _end(self, ctx: Ctx, board: str, run: Run, outcome: str, error: str, count: bool,
             result: DispatchResult, payload: dict[str, object] | None = None) -> None:
        # Retried through a database restart: the exit status taken from the spawner is known
        # only here, and a lost one would be settled later as a lost runner instead.
        task = ctx.retry.run(lambda: runs.end_attempt(
            ctx, board, run.task_id, run.id, outcome=outcome, error=error, count_failure=count,
            failure_limit=ctx.settings.dispatch.failure_limit, payload=payload))
        self._stopping.pop(run.id, None)
        if task is None:
            return  # someone else ended it first
        bucket = {m.OUTCOME_CRASHED: result.crashed, m.OUTCOME_RUNNER_LOST: result.crashed, m.OUTCOME_TIMED_OUT: result.timed_out,
                  m.OUTCOME_RATE_LIMITED: result.rate_limited,
                  m.OUTCOME_PROTOCOL_VIOLATION: result.protocol_violation}.get(outcome)
        if bucket is not None:
            bucket.append(run.task_id)
        else:
            result.reclaimed += 1
        if task.status is Status.BLOCKED:
            result.auto_blocked.append(run.task_id)
        log.info("task %s: attempt %s ended %s: %s", run.task_id, run.id, outcome, error)


    def reap(self, ctx: Ctx, board: str, open_runs: list[Run], result: DispatchResult) -> None:
        """Settle every open attempt of ``board`` that this process is responsible for."""
        now = ctx.now()
        me = os.getpid()
        for run in open_runs:
            host, owner = procs.parse_lock(run.claim_lock)
            expired = run.claim_expires is not None and run.claim_expires < now
            if host != procs.HOST:
                runner = m.runner_of_lock(run.claim_lock)
                if expired and runner is not None:  # killed, powered off or cut off: retried elsewhere
                    self._end(ctx, board, run, m.OUTCOME_RUNNER_LOST,
                              f"runner {runner} was lost: it stopped extending the lease",
                              True, result, {"lease_expired": True, "runner": runner})
                elif expired:  # a worker on another machine stopped heartbeating
                    self._end(ctx, board, run, m.OUTCOME_RECLAIMED,
                         f"lease expired: no heartbeat from the worker on {host or 'an unknown host'}",
                         run.worker_pid is not None, result, {"lease_expired": True})
                continue
            if owner != me and owner is not None and procs.pid_alive(owner) and not expired:
                continue  # another live dispatcher on this machine watches its own workers
            try:
                self._reap_local(ctx, board, run, now, result)
            except Exception as err:  # one bad attempt must not stop the pass
                log.exception("task %s: could not check attempt %s", run.task_id, run.id)
                result.errors.append(f"{run.task_id}: {err}")


    def _reap_local(self, ctx: Ctx, board: str, run: Run, now: float, result: DispatchResult) -> None:
        pid = run.worker_pid
        if pid is None:
            # The dispatcher that claimed this attempt died before recording a worker: the worker
            # may or may not have started. Its environment names the run, so look for it.
            found = procs.find_worker(run.id, run.task_id)
            if found is None:
                self._end(ctx, board, run, m.OUTCOME_RECLAIMED,
                     "the dispatcher stopped before a worker was started; requeued", False, result)
                return
            ctx.retry.run(lambda: runs.set_worker(ctx, board, run.task_id, run.id, pid=found))
            log.info("task %s: adopted worker pid %s of attempt %s", run.task_id, found, run.id)
            pid = found
        rc = self.spawner.take_exit(pid, run.id)
        child = self.spawner.is_running_child(pid)
        alive = rc is None and (child or procs.worker_alive(pid, run.id))
        if alive and not child:
            self._adopted[pid] = (run.id, run.task_id, board)
        stopping = self._stopping.get(run.id)
        if not alive:
            if not procs.pid_alive(pid):
                # Whatever the worker left behind in its group. (A pid that is alive here belongs to
                # an unrelated process by now: its group is not ours to touch.)
                procs.signal_group(pid, signal.SIGKILL)
            outcome, error, count = classify(rc, pid, run, now,
                                             stopping is not None and stopping.reason == "timed_out")
            self._end(ctx, board, run, outcome, error, count, result, {"pid": pid, "exit_code": rc})
            return
        if stopping is not None:
            _escalate(stopping, ctx.settings.dispatch.kill_grace_seconds)
        elif run.max_runtime_seconds and now - run.started_at >= run.max_runtime_seconds:
            log.info("task %s: worker pid %s passed its max runtime; stopping it", run.task_id, pid)
            procs.signal_group(pid, signal.SIGTERM)
            self._stopping[run.id] = _Stopping(pid, "timed_out", time.monotonic())
        else:
            ttl = ctx.settings.dispatch.claim_ttl_seconds
            if run.claim_expires is None or run.claim_expires - now < ttl / 2:
                ctx.retry.run(lambda: dispatching.extend_lease(ctx, board, run.task_id, run.id,
                                                               ttl=ttl, pid=pid))


    def _watched(self, board: str) -> list[tuple[int, int, str]]:
        """``(pid, run id, task id)`` of the live workers of ``board`` this process watches."""
        out = [(c.pid, c.run_id, c.task_id) for c in self.spawner.running_children() if c.board == board]
        for pid, (run_id, task_id, b) in list(self._adopted.items()):
            if not procs.worker_alive(pid, run_id):
                del self._adopted[pid]
            elif b == board:
                out.append((pid, run_id, task_id))
        return out


    def busy_tasks(self, board: str) -> set[str]:
        """Tasks of ``board`` that still have a live worker here, whatever the state of its attempt:
        a new attempt must not start beside an old worker that is still shutting down."""
        return {task_id for _pid, _run, task_id in self._watched(board)}


    def stop_ended(self, ctx: Ctx, board: str, open_ids: set[int], result: DispatchResult) -> None:
        """Stop our workers whose attempt was ended by someone else (reclaimed, archived, completed
        by a person): a worker must never keep working on an attempt that is no longer its own."""
        watched = [w for w in self._watched(board) if w[1] not in open_ids]
        live = {w[0] for w in watched}
        for pid in list(self._ended_seen):
            if pid not in live:
                del self._ended_seen[pid]
        if not watched:
            return
        ended = dispatching.get_runs(ctx, [w[1] for w in watched])
        grace = ctx.settings.dispatch.kill_grace_seconds
        mono = time.monotonic()
        for pid, run_id, task_id in watched:
            run = ended.get(run_id)
            if run is not None and run.ended_at is None:
                continue  # opened since the snapshot
            first = self._ended_seen.setdefault(pid, mono)
            own_end = run is not None and run.outcome in (m.OUTCOME_COMPLETED, m.OUTCOME_BLOCKED)
            wait = EXIT_GRACE_SECONDS if own_end else 0.0
            if mono - first < wait:
                continue
            if mono - first >= wait + grace:
                procs.signal_group(pid, signal.SIGKILL)
            elif procs.signal_group(pid, signal.SIGTERM) and task_id not in result.terminated:
                result.terminated.append(task_id)
