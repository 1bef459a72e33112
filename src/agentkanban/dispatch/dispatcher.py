"""The dispatcher: hands ready tasks to worker processes and watches them until they finish.

``Dispatcher(ctx).tick()`` is one pass over every board; ``run()`` loops until ``stop()``, waking
on new work (events written in this process, or a new event id written by another process) and
otherwise every ``dispatch.interval_seconds``.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import Profile, secret_values
from ..domain.models import OUTCOME_SPAWN_FAILED, RUN_ACCEPTANCE, RUN_REVIEW, RUN_WORK, Event
from ..domain.statuses import Status
from ..errors import KanbanError
from ..services import (
    Ctx,
    backoff,
    budgets,
    configwatch,
    dispatching,
    goals,
    health,
    maintenance,
    metrics,
    runs,
    schedules,
    scheduling,
    sessions,
)
from ..services import boards as boards_svc
from ..services import events as events_svc
from ..services.runs import Claim
from . import costs, logs, procs, reaper, reviewing, spawner, workspaces
from .placeholders import substitute

log = logging.getLogger("agentkanban.dispatch")

REPORT_LIMIT = 200  # longest list of skipped tasks a pass reports


@dataclass
class DispatchResult:
    reclaimed: int = 0
    promoted: int = 0
    spawned: list[dict[str, Any]] = field(default_factory=list)  # {id, assignee, workspace, pid}
    skipped_unassigned: list[str] = field(default_factory=list)
    skipped_nonspawnable: list[dict[str, str]] = field(default_factory=list)  # {id, assignee}
    skipped_capped: list[dict[str, str]] = field(default_factory=list)  # {id, assignee, cap}
    # Held back by a budget or a provider (cool-down, shared cap): {id, assignee, kind, reason}
    held: list[dict[str, str]] = field(default_factory=list)
    cost_limit_blocked: list[str] = field(default_factory=list)  # over their own max_cost_usd
    cooling_down: list[str] = field(default_factory=list)
    waiting_for_exit: list[str] = field(default_factory=list)  # an ended attempt's worker still runs
    crashed: list[str] = field(default_factory=list)
    protocol_violation: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    rate_limited: list[str] = field(default_factory=list)
    spawn_failed: list[str] = field(default_factory=list)
    auto_blocked: list[str] = field(default_factory=list)
    awaiting_approval: list[str] = field(default_factory=list)  # ready, held for a person's approval
    for_runners: list[str] = field(default_factory=list)  # ready, only a remote runner may take them
    terminated: list[str] = field(default_factory=list)
    skipped_locked: bool = False
    dry_run: bool = False
    boards: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    poll_seconds = 0.1  # how often the idle loop looks for writes made by other processes (one indexed max(id))
    # Passes woken by writes in this process start at least this far apart: a burst of writes (a
    # client creating tasks as fast as the API answers) then costs a few passes a second, not one
    # per write (a pass reads the whole ready queue), and no write waits longer than one made by
    # another process, which is only noticed every poll_seconds anyway.
    min_gap_seconds = 0.1
    sweep_seconds = 10.0  # how often finished scratch workspaces are looked for
    workspace_min_age = 30.0  # a finished task's scratch is kept at least this long
    lock_wait_seconds = 5.0  # a pass asked for while another runs in this process waits this long

    def __init__(self, ctx: Ctx, *, config: configwatch.ConfigWatch | None = None) -> None:
        self.ctx = ctx
        # Everything a dispatcher keeps lives here, never in a module: its children, what its
        # reaper asked of them, and one pass at a time (its loop and a ``POST /dispatch`` pass,
        # which the server asks of this same object). Across processes the claim's
        # compare-and-set, with the caps counted in the same transaction, keeps two dispatchers
        # from double-claiming.
        self.spawner = spawner.Spawner()
        self.reaper = reaper.Reaper(self.spawner)
        self._tick_lock = threading.Lock()
        self.lock = procs.lock_for_this_process(secrets.token_hex(4))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._last_sweep = 0.0
        self._stats_taken_at: int | None = None  # tasks counted when statistics were last taken
        self._warned: set[tuple[str, str]] = set()
        self._passes = metrics.Histogram(metrics.PASS_BUCKETS)  # reported with each tick, for /metrics
        # config.yaml is looked at before each pass; a new configuration wakes the loop, so a
        # profile added while a task waits for it starts that task within a pass.
        # The URL of the `kanban serve` running this dispatcher, if one does: its workers reach
        # the board there with their run token, and are given no way to open the database.
        self.serve_url: str | None = None
        self.config = config or configwatch.ConfigWatch(ctx)
        self.config.on_reload(lambda _changed: self.wake())

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        """Pass after pass until :meth:`stop`; errors are logged and the loop carries on."""
        self.ctx.store.add_listener(self._on_events)
        try:
            while not self._stop.is_set():
                cursor = self._latest_event()
                started = time.monotonic()
                try:
                    self.tick()
                except Exception:
                    log.exception("dispatch pass failed; retrying after the interval")
                    self._stop.wait(self.ctx.settings.dispatch.interval_seconds)
                    continue
                self._wait(cursor, started)
        finally:
            self.ctx.store.remove_listener(self._on_events)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _on_events(self, events: list[Event]) -> None:
        self._wake.set()

    def _latest_event(self) -> int | None:
        try:
            return events_svc.latest_id(self.ctx)
        except KanbanError:
            return None

    def _wait(self, cursor: int | None, started: float) -> None:
        deadline = time.monotonic() + self.ctx.settings.dispatch.interval_seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(self.poll_seconds, left)):
                # Writes committed until the next pass starts are seen by it: one wake-up for all.
                self._stop.wait(max(0.0, started + self.min_gap_seconds - time.monotonic()))
                self._wake.clear()
                return
            if self.spawner.any_exited() or self._latest_event() != cursor:
                return

    # -- one pass -------------------------------------------------------------------------------
    def tick(self, *, dry_run: bool = False, max_spawn: int | None = None,
             board: str | None = None) -> DispatchResult:
        result = DispatchResult(dry_run=dry_run)
        if not self._tick_lock.acquire(timeout=self.lock_wait_seconds):
            result.skipped_locked = True
            return result
        started = time.perf_counter()
        try:
            self.config.check()
            self.spawner.collect_exits()
            if not dry_run and board is None:
                self._fire_schedules()
            slugs = [boards_svc.normalize_slug(board)] if board else dispatching.active_boards(self.ctx)
            result.boards = slugs
            budget = [max_spawn] if max_spawn is not None else None
            for slug in slugs:
                try:
                    self._pass_board(slug, result, dry_run, budget)
                except KanbanError as err:
                    log.error("board %s: dispatch pass failed: %s", slug, err)
                    result.errors.append(f"{slug}: {err}")
            if not dry_run:
                self._sweep(slugs)
                self._record_tick({
                    "host": procs.HOST, "pid": os.getpid(), "spawned": len(result.spawned),
                    "running": len(self.spawner.running_children()),
                    "stranded": [*result.skipped_unassigned[:20],
                                 *[d["id"] for d in result.skipped_nonspawnable[:20]]],
                    **self._pass_info(started)})
        finally:
            self._tick_lock.release()
        return result

    def _record_tick(self, info: dict[str, Any]) -> None:
        self.ctx.retry.run(lambda: health.record_dispatcher_tick(self.ctx, info))

    def _fire_schedules(self) -> None:
        try:
            schedules.fire_due(self.ctx)  # recurring work: one task per occurrence
        except KanbanError as err:
            log.error("firing schedules failed: %s", err)

    def _pass_info(self, started: float) -> dict[str, Any]:
        self._passes.observe(time.perf_counter() - started)
        return self._passes.as_info("pass")

    def _pass_board(self, board: str, result: DispatchResult, dry_run: bool,
                    budget: list[int] | None) -> None:
        if not dry_run:
            # Scheduled tasks whose time has come. Like every write of a pass, retried through a
            # database restart under the services' policy (each is one transaction that brings
            # the board up to date, so running it again is safe).
            self.ctx.retry.run(lambda: scheduling.promote_due(self.ctx, board))
        snap = dispatching.snapshot(self.ctx, board)
        changed = False
        if not dry_run:
            before = (result.reclaimed, len(result.crashed), len(result.timed_out),
                      len(result.rate_limited), len(result.protocol_violation))
            self.reaper.reap(self.ctx, board, snap.open_runs, result)
            self.reaper.stop_ended(self.ctx, board, {r.id for r in snap.open_runs}, result)
            changed = before != (result.reclaimed, len(result.crashed), len(result.timed_out),
                                 len(result.rate_limited), len(result.protocol_violation))
        if not dry_run:
            self.ctx.retry.run(lambda: costs.settle(self.ctx, board, self.reaper.busy_tasks(board)))
        if changed:
            snap = dispatching.snapshot(self.ctx, board)
        if snap.unapproved and not dry_run:
            reviewing.ask_approval(self, board, snap.unapproved, result)
        if snap.ready:
            ready = [r for r in snap.ready if r[0] not in snap.unapproved]
            if snap.runs_on:
                for tid, *_rest in ready:
                    if tid in snap.runs_on:
                        self._report(result.for_runners, tid)
                ready = [r for r in ready if r[0] not in snap.runs_on]
            self._spawn_ready(board, ready, result, dry_run, budget)
        if snap.checks:
            reviewing.start_checks(self, board, snap.checks, result, dry_run)

    def _spawn_ready(self, board: str, ready: list[tuple[str, str | None, bool]],
                     result: DispatchResult, dry_run: bool, budget: list[int] | None) -> None:
        settings = self.ctx.settings
        by_profile, by_board = dispatching.open_counts(self.ctx)
        board_cap = settings.dispatch.max_in_progress
        cooling = self._cooling_down([tid for tid, _a, failed in ready if failed])
        busy = self.reaper.busy_tasks(board)
        # Assignees are stored folded to lower case; profile names in the config may not be.
        profiles = {name.strip().lower(): p for name, p in settings.profiles.items()}
        gate = budgets.gate(self.ctx, board, by_profile)
        if gate.over_limit and not dry_run:
            result.cost_limit_blocked += self.ctx.retry.run(
                lambda: costs.block_over_limit(self.ctx, board, gate, ready))
        held: dict[budgets.Refusal, list[str]] = {}
        for tid, assignee, _failed in ready:
            if not assignee:
                self._report(result.skipped_unassigned, tid)
                continue
            profile = profiles.get(assignee)
            if profile is None:
                self._report(result.skipped_nonspawnable, {"id": tid, "assignee": assignee})
                self._warn(tid, assignee)
                continue
            if tid in gate.over_limit:
                continue
            refusal = gate.refuse(assignee)
            if refusal is not None:
                self._report(result.held, {"id": tid, "assignee": assignee, "kind": refusal.kind,
                                           "reason": refusal.reason})
                held.setdefault(refusal, []).append(tid)
                continue
            cap = None
            if board_cap is not None and by_board.get(board, 0) >= board_cap:
                cap = "max_in_progress"
            elif by_profile.get(assignee, 0) >= profile.max_concurrency:
                cap = "max_concurrency"
            elif budget is not None and budget[0] <= 0:
                cap = "max_spawn"
            if cap:
                self._report(result.skipped_capped, {"id": tid, "assignee": assignee, "cap": cap})
                continue
            if tid in cooling:
                self._report(result.cooling_down, tid)
                continue
            if tid in busy:
                self._report(result.waiting_for_exit, tid)
                continue
            if dry_run:
                result.spawned.append({"id": tid, "assignee": assignee, "workspace": None, "pid": None})
            else:
                claim = self.ctx.retry.run(functools.partial(
                    dispatching.claim_capped, self.ctx, board, tid, profile=assignee,
                    lock=self.lock, ttl=settings.dispatch.claim_ttl_seconds,
                    max_runtime=profile.max_runtime, profile_cap=profile.max_concurrency,
                    board_cap=board_cap, provider=budgets.provider_cap(self.ctx, assignee)))
                if claim is None:
                    continue
                self._start(board, claim, assignee, profile, result)
            gate.started(assignee)
            by_profile[assignee] = by_profile.get(assignee, 0) + 1
            by_board[board] = by_board.get(board, 0) + 1
            if budget is not None:
                budget[0] -= 1
        for refusal, tids in held.items():
            if refusal.key and not dry_run:
                self.ctx.retry.run(functools.partial(budgets.announce, self.ctx, board, refusal, tids))

    def _cooling_down(self, task_ids: list[str]) -> set[str]:
        """Tasks waiting out the retry backoff of their last failure (one rule: services.backoff)."""
        return set(backoff.waiting(self.ctx, task_ids))

    @staticmethod
    def _report(bucket: list[Any], item: Any) -> None:
        if len(bucket) < REPORT_LIMIT:
            bucket.append(item)

    def _warn(self, task_id: str, assignee: str) -> None:
        if (task_id, assignee) not in self._warned:
            self._warned.add((task_id, assignee))
            log.warning("task %s is assigned to %r, which is not a configured profile; it stays "
                        "ready until a profile of that name exists or it is reassigned",
                        task_id, assignee)

    # -- starting a worker ----------------------------------------------------------------------
    def _start(self, board: str, claim: Claim, name: str, profile: Profile,
               result: DispatchResult, kind: str = RUN_WORK) -> None:
        task = claim.task
        settings = self.ctx.settings
        path = logs.log_path(self.ctx, board, task.id)
        try:
            launch = costs.plan_launch(self.ctx, board, task, name, profile)
            user = spawner.run_as(profile.run_as) if profile.run_as else None
            ws = workspaces.resolve(self.ctx, board, task)
            if user is not None:
                workspaces.give_to(self.ctx, board, ws, user)
            values = {"task_id": task.id, "board": board, "workspace": str(ws),
                      "run_id": str(claim.run_id), "session_id": launch.session_id or "",
                      **goals.placeholders(task)}
            argv = [substitute(a, values) for a in costs.argv_for(profile, launch)]
            checks: dict[str, str] = {}
            if kind == RUN_ACCEPTANCE:
                argv, checks = reviewing.acceptance_launch(profile)
            sessions.note_launch(self.ctx, board, task.id, claim.run_id, workspace=str(ws),
                                 launch=launch, usage_from=profile.usage_from)
            env = spawner.worker_env(
                os.environ, [*settings.dispatch.env_passthrough, *profile.env_passthrough],
                {**(user.env() if user else {}),
                 **{k: substitute(v, values) for k, v in profile.env.items()},
                 "KANBAN_TASK_ID": task.id, "KANBAN_RUN_ID": str(claim.run_id),
                 "KANBAN_RUN_TOKEN": claim.token, "KANBAN_BOARD": board,
                 **self._board_access(), "KANBAN_PROFILE": name, "KANBAN_WORKSPACE": str(ws), **goals.worker_env(task),
                 **checks},
                hidden=secret_values(settings))
            logs.rotate_before_spawn(path, settings.dispatch.log_rotate_bytes,
                                     settings.dispatch.log_backup_count)
            self._log_header(path, f"{'attempt' if kind == RUN_WORK else kind + ' attempt'} "
                                   f"{claim.run_id} by profile {name} in {ws}")
            if kind == RUN_REVIEW:
                reviewing.note_diff(self, board, task, claim.run_id, ws)
            if launch.resume or launch.note:
                self._log_header(path, f"resuming session {launch.session_id}" if launch.resume
                                 else str(launch.note))
            pid = self.spawner.spawn(argv, env=env, cwd=ws, log_path=path, run_id=claim.run_id,
                                     task_id=task.id, board=board, user=user)
        except (KanbanError, OSError) as err:
            # Short of descriptors, processes or disk on our side: retried, never held against
            # the task (the message says so, which is how the retry rule tells).
            infra = backoff.is_infrastructure(str(err)) or (
                isinstance(err, OSError) and backoff.infrastructure_errno(err.errno))
            detail = str(err).removeprefix(backoff.INFRASTRUCTURE)
            error = (backoff.INFRASTRUCTURE if infra else "") + f"spawn failed (profile {name!r}): {detail}"
            self._log_header(path, error)
            ended = self.ctx.retry.run(lambda: runs.end_attempt(
                self.ctx, board, task.id, claim.run_id, outcome=OUTCOME_SPAWN_FAILED, error=error,
                count_failure=not infra, failure_limit=settings.dispatch.failure_limit))
            result.spawn_failed.append(task.id)
            if ended is not None and ended.status is Status.BLOCKED:
                result.auto_blocked.append(task.id)
            log.warning("task %s: %s", task.id, error)
            return
        keep_path = None if task.workspace_kind == "worktree" else str(ws)
        # A worker is running now: its pid must reach the board even through a database restart.
        if not self.ctx.retry.run(lambda: runs.set_worker(self.ctx, board, task.id, claim.run_id,
                                                          pid=pid, workspace_path=keep_path)):
            procs.signal_group(pid, signal.SIGTERM)  # the attempt was ended while we started it
            return
        result.spawned.append({"id": task.id, "assignee": name, "workspace": str(ws), "pid": pid,
                               "run_id": claim.run_id, "board": board})
        log.info("task %s: started %s (pid %s, run %s)", task.id, argv[0], pid, claim.run_id)

    def _board_access(self) -> dict[str, str]:
        """How a worker's ``kanban`` (CLI and MCP) reaches the board: through the `kanban serve`
        running this dispatcher, as its run token allows (no database URL, no home); without
        one (`kanban daemon`) there is only the database."""
        if self.serve_url:
            return {"KANBAN_URL": self.serve_url}
        settings = self.ctx.settings
        return {"KANBAN_HOME": str(settings.home), "KANBAN_DATABASE_URL": settings.database_url}

    @staticmethod
    def _log_header(path: Any, text: str) -> None:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8", opener=logs.private_opener) as f:
                f.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        except OSError:
            pass

    # -- housekeeping ---------------------------------------------------------------------------
    def _sweep(self, slugs: list[str]) -> None:
        settings = self.ctx.settings
        busy = set()
        for child in self.spawner.running_children():
            busy.add(child.task_id)
            try:
                logs.rotate_live(logs.log_path(self.ctx, child.board, child.task_id),
                                 settings.dispatch.log_rotate_bytes, settings.dispatch.log_backup_count)
            except OSError:
                pass
        mono = time.monotonic()
        if mono - self._last_sweep < self.sweep_seconds:
            return
        self._last_sweep = mono
        try:
            self._stats_taken_at = maintenance.refresh_stats_if_stale(self.ctx, self._stats_taken_at)
        except KanbanError as err:
            log.warning("refreshing the query planner's statistics failed: %s", err)
        for slug in slugs:
            try:
                workspaces.sweep(self.ctx, slug, min_age=self.workspace_min_age, busy_tasks=busy)
            except (KanbanError, OSError) as err:
                log.warning("board %s: workspace cleanup failed: %s", slug, err)
