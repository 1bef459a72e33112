"""The runner's loop: register, long-poll for work, run it, keep its lease, ship its log, report.

Threads: the main thread waits for signals and for the end; one thread claims work (a long poll,
so it asks again at once when the server answered empty after its wait, and backs off 1-30 s with
jitter when the server cannot be reached); one thread per running worker extends its lease, ships
its output, enforces its maximum runtime and reports its exit. Each thread has its own HTTP client.

Stopping: the first SIGTERM/SIGINT stops claiming and waits for the running workers to finish and
be reported; a second one stops the workers (TERM to their process group, KILL after the kill
grace), reports them and exits.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import SpawnError
from . import worker
from .client import Client, Gone, Registration, RunnerError, TokenRefused, TooLarge, Unavailable
from .settings import RunnerConfig, describe

log = logging.getLogger("agentkanban.runner")

EXIT_TOKEN_REFUSED = 78  # EX_CONFIG: a supervisor should not restart it with the same token
EXIT_ERROR = 1
TICK_SECONDS = 1.0  # how often a worker's output is shipped and its deadline looked at
LOG_CHUNKS_PER_TICK = 8  # a worker writing fast does not starve its lease extension
MIN_LOG_CHUNK = 1024
REPORT_GRACE_SECONDS = 600.0  # an exit report is retried this long past the lease's expiry
URGENT_REPORT_SECONDS = 15.0  # after a second signal, reports are retried this long past the kill grace


class Backoff:
    """1 s, 2 s, 4 s ... up to ``cap``, each shortened by a random part (so runners that lost the
    server together do not all come back in the same second)."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        self.first, self.cap, self.tries = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2 ** min(self.tries, 16))
        self.tries += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.tries = 0


class Outage:
    """Whether the server answers, shared by the threads: an outage is logged when it starts and
    when it ends, never once per try."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None
        self.count = 0  # outages so far: the claim loop registers again after each

    def failed(self, what: str, err: Exception) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
            self.count += 1
        log.warning("server unreachable (%s: %s); retrying with backoff, running workers carry on",
                    what, err)

    def ok(self) -> None:
        with self._lock:
            if self.since is None:
                return
            down, self.since = time.monotonic() - self.since, None
        log.info("server reachable again after %.0fs", down)


class Runner:
    def __init__(self, cfg: RunnerConfig, *, client_factory: Callable[[], Client] | None = None) -> None:
        self.cfg = cfg
        self.new_client = client_factory or (lambda: Client(cfg.server, cfg.token))
        self.outage = Outage()
        self.registration: Registration | None = None
        self.jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.draining = threading.Event()  # first signal: claim nothing more
        self.urgent = threading.Event()  # second signal: stop the workers too
        self.urgent_at = 0.0
        self.fatal: str | None = None
        self._signals: list[str] = []  # noted by the handler, logged by the main loop
        self._claimer: threading.Thread | None = None

    # -- the main thread ------------------------------------------------------------------------
    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only flags here: logging from a signal handler can deadlock on the logging lock.
        self._signals.append(signal.Signals(signum).name)
        if not self.draining.is_set():
            self.draining.set()
        elif not self.urgent.is_set():
            self.urgent_at = time.monotonic()
            self.urgent.set()
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def stop(self, urgent: bool = False) -> None:
        """Stop as a first signal would (``urgent``: as a second one)."""
        self.draining.set()
        if urgent and not self.urgent.is_set():
            self.urgent_at = time.monotonic()
            self.urgent.set()
        self._notify()

    def run(self) -> int:
        cfg = self.cfg
        log.info("runner starting: server %s, capacity %d, labels [%s], profiles %s (from %s), "
                 "workspaces in %s", cfg.server, cfg.capacity, ", ".join(cfg.labels),
                 describe(cfg.profiles), cfg.source or "no file", cfg.workspace_root)
        if not cfg.profiles:
            log.warning("no profiles configured: the runner registers but will be given no work "
                        "(add profiles: to %s)", cfg.home / "runner.yaml")
        self._claimer = threading.Thread(target=self._claim_loop, name="runner-claim", daemon=True)
        self._claimer.start()
        said_urgent = said_draining = False
        while True:
            while self._signals:
                name = self._signals.pop(0)
                busy = self.busy()
                if self.urgent.is_set() and not said_urgent:
                    said_urgent = True
                    log.warning("%s again: stopping %d running worker(s) now, then exiting", name, busy)
                elif not said_draining:
                    said_draining = True
                    log.warning("%s: claiming no more work; waiting for %d running worker(s) to finish "
                                "(send it again to stop them now)", name, busy)
            busy = self.busy()
            if busy == 0:
                if self.fatal is not None:
                    log.error("runner stopped: %s", self.fatal)
                    return EXIT_TOKEN_REFUSED
                if self.urgent.is_set() or (self.draining.is_set() and not self._claimer.is_alive()):
                    log.info("runner stopped")
                    return 0
                if not self._claimer.is_alive() and not self.draining.is_set():
                    log.error("runner stopped: the claim loop ended unexpectedly")
                    return EXIT_ERROR
            with self._changed:
                self._changed.wait(0.2)

    def busy(self) -> int:
        with self._lock:
            return len(self.jobs)

    def set_fatal(self, reason: str) -> None:
        if self.fatal is None:
            self.fatal = reason
            log.error("%s; stopping the running workers and exiting", reason)
        self.draining.set()
        if not self.urgent.is_set():
            self.urgent_at = time.monotonic()
            self.urgent.set()
        self._notify()

    # -- claiming -------------------------------------------------------------------------------
    def _register(self, client: Client) -> Registration:
        cfg = self.cfg
        reg = client.register(labels=cfg.labels, profiles=sorted(cfg.profiles), capacity=cfg.capacity)
        if cfg.name and reg.name != cfg.name:
            self.set_fatal(f"the token belongs to runner {reg.name!r}, not {cfg.name!r} as configured")
            return reg
        refused = sorted(set(cfg.profiles) - set(reg.profiles))
        log.info("registered as runner %s: labels [%s], profiles %s, capacity %d; lease %.0fs, "
                 "long poll %.0fs", reg.name, ", ".join(reg.labels), describe(dict.fromkeys(reg.profiles)),
                 reg.capacity, reg.lease_seconds, reg.poll_seconds)
        if refused:
            log.warning("profiles %s are not allowed for this runner's token: no work for them",
                        ", ".join(refused))
        self.registration = reg
        return reg

    def _free_slots(self) -> int:
        """Wait until a worker slot is free; 0 when claiming should stop."""
        with self._changed:
            while not self.draining.is_set() and self.fatal is None:
                reg = self.registration
                capacity = min(self.cfg.capacity, reg.capacity) if reg else self.cfg.capacity
                free = capacity - len(self.jobs)
                if free > 0:
                    return free
                self._changed.wait(1.0)
        return 0

    def _claim_wait(self) -> float:
        reg = self.registration
        wait = self.cfg.claim_wait_seconds or (reg.poll_seconds if reg else 25.0)
        return max(1.0, min(wait, 60.0))

    def _claim_loop(self) -> None:
        client = self.new_client()
        backoff = Backoff()
        registered_after = -1  # the outage count when it last registered
        try:
            while not self.draining.is_set() and self.fatal is None:
                what = "register"
                try:
                    if registered_after != self.outage.count or self.registration is None:
                        outages = self.outage.count
                        self._register(client)
                        registered_after = outages
                        self.outage.ok()
                        continue
                    free = self._free_slots()
                    if free <= 0:
                        continue
                    what = "claim"
                    started = time.monotonic()
                    items = client.claim(free, self._claim_wait())
                except TokenRefused as err:
                    self.set_fatal(f"the server refused the runner token ({err}): it is wrong or was "
                                   "revoked; make a new one with `kanban runners token create NAME`")
                    return
                except Unavailable as err:
                    self.outage.failed(what, err)
                    self.draining.wait(backoff.next())
                    continue
                except RunnerError as err:
                    if what == "register":  # what it offers is refused: the same again would be too
                        self.set_fatal(f"the server refused the registration ({err})")
                        return
                    log.error("the server refused to %s: %s; trying again later", what, err)
                    self.draining.wait(backoff.next())
                    continue
                except Exception:
                    log.exception("%s failed; trying again later", what)
                    self.draining.wait(backoff.next())
                    continue
                self.outage.ok()
                backoff.reset()
                for item in items:
                    self._start_job(item)
                if not items and time.monotonic() - started < 1.0:
                    self.draining.wait(1.0)  # a server that does not hold the poll: never a tight loop
        finally:
            client.close()
            self._notify()

    def _start_job(self, item: dict[str, Any]) -> None:
        try:
            job = Job(self, item)
        except (KeyError, TypeError, ValueError) as err:
            log.error("the server sent unusable work (%s missing or malformed): %r", err,
                      {k: v for k, v in item.items() if k not in ("run_token", "env")})
            return
        if self.draining.is_set():
            log.info("run %d: claimed just as the runner was stopping; running it", job.run_id)
        with self._changed:
            self.jobs[job.run_id] = job
        job.start()

    def forget(self, run_id: int) -> None:
        with self._changed:
            self.jobs.pop(run_id, None)
            self._changed.notify_all()


class Job(threading.Thread):
    """One claimed attempt: its worker process from start to reported exit."""

    def __init__(self, runner: Runner, item: dict[str, Any]) -> None:
        self.run_id = int(item["run_id"])
        self.task_id = str(item["task_id"])
        self.board = str(item["board"])
        self.profile_name = str(item["profile"])
        super().__init__(name=f"runner-run-{self.run_id}", daemon=True)
        self.runner, self.item = runner, item
        reg = runner.registration
        self.lease_seconds = reg.lease_seconds if reg else 60.0
        self.chunk = reg.max_log_chunk if reg else 256 * 1024
        now = time.monotonic()
        self.lease_ok_at = now  # the lease was last known good then (claimed or extended)
        self.next_lease = now + self.lease_seconds / 3
        self.quiet_until = 0.0  # no calls before this after a failed one (per-worker backoff)
        self.backoff = Backoff()
        self.proc: Any = None
        self.log_path: Any = None
        self.offset = 0
        self.timed_out = False
        self.term_at: float | None = None
        self.killed = False
        self.label = f"run {self.run_id} ({self.task_id} on {self.board})"

    def run(self) -> None:
        client = self.runner.new_client()
        try:
            self._run(client)
        except Exception:
            log.exception("%s: the runner failed watching it", self.label)
            if self.proc is not None and self.proc.poll() is None:
                worker.signal_group(self.proc, signal.SIGKILL)
        finally:
            client.close()
            self.runner.forget(self.run_id)

    # -- start ----------------------------------------------------------------------------------
    def _spawn(self) -> float | None:
        """Start the worker; its maximum runtime in seconds (None: no limit)."""
        cfg = self.runner.cfg
        profile = cfg.profiles.get(self.profile_name)
        if profile is None:
            raise SpawnError(f"profile {self.profile_name!r} is not configured on runner "
                             f"{self.runner.registration.name if self.runner.registration else '?'} "
                             f"(it has {describe(cfg.profiles)})")
        ws = worker.workspace(cfg.workspace_root, self.board, self.task_id)
        self.log_path = worker.log_file(cfg.log_dir, self.board, self.task_id, self.run_id)
        args = worker.argv(profile, self.item, ws)
        env = worker.worker_env(profile, self.item, server=cfg.server, workspace=ws, secret=cfg.token)
        self.proc = worker.start(args, env=env, cwd=ws, log_path=self.log_path)
        log.info("%s: started profile %s, pid %d, in %s", self.label, self.profile_name, self.proc.pid, ws)
        limits = [x for x in (self.item.get("max_runtime_seconds"), profile.max_runtime) if x]
        return float(min(limits)) if limits else None

    def _run(self, client: Client) -> None:
        try:
            limit = self._spawn()
        except SpawnError as err:
            error = err.message
            log.warning("%s: spawn failed: %s", self.label, error)
            self._deliver(client, "exit report", lambda: self._report(client, None, error))
            return
        started = time.monotonic()
        while True:
            rc = worker.wait(self.proc, TICK_SECONDS)
            if rc is not None:
                break
            now = time.monotonic()
            if self.runner.urgent.is_set():
                self._stop(self.runner.fatal or "the runner is stopping")
            if limit is not None and now - started >= limit and not self.timed_out:
                self.timed_out = True
                self._stop(f"exceeded its max runtime of {limit:.0f}s")
            self._escalate(now)
            if now < self.quiet_until:
                continue
            try:
                self._ship(client, LOG_CHUNKS_PER_TICK)
                if now >= self.next_lease:
                    self._extend(client)
            except Gone as err:
                self._lost(err)
                return
            except TokenRefused as err:
                self.runner.set_fatal(f"the server refused the runner token ({err})")
            except Unavailable as err:
                self.runner.outage.failed("lease and log", err)
                self.quiet_until = now + self.backoff.next()
            except RunnerError as err:
                log.warning("%s: the server refused its log or lease: %s", self.label, err)
                self.quiet_until = now + self.backoff.next()
        if self.term_at is not None:
            worker.kill_leftovers(self.proc)
        log.info("%s: worker exited with %s%s", self.label, _status(rc),
                 " after its max runtime" if self.timed_out else "")
        if self._deliver(client, "log", lambda: self._ship(client, None)):
            self._deliver(client, "exit report", lambda: self._report(client, rc, None))

    # -- while it runs --------------------------------------------------------------------------
    def _stop(self, reason: str) -> None:
        if self.term_at is None and self.proc is not None and self.proc.poll() is None:
            log.warning("%s: %s: stopping its worker (TERM, KILL after %.0fs)", self.label, reason,
                        self.runner.cfg.kill_grace_seconds)
            self.term_at = time.monotonic()
            worker.signal_group(self.proc, signal.SIGTERM)

    def _escalate(self, now: float) -> None:
        if self.term_at is not None and not self.killed \
                and now - self.term_at >= self.runner.cfg.kill_grace_seconds:
            self.killed = True
            log.warning("%s: worker still running after the kill grace: KILL", self.label)
            worker.signal_group(self.proc, signal.SIGKILL)

    def _lost(self, err: RunnerError) -> None:
        """409: the attempt is no longer ours. Stop the worker and forget it (nothing is reported)."""
        self._stop(f"the server ended this attempt ({err})")
        while worker.wait(self.proc, 0.2) is None:
            self._escalate(time.monotonic())
        worker.kill_leftovers(self.proc)
        self._discard_log()
        log.info("%s: worker stopped; the attempt is the server's to retry", self.label)

    def _discard_log(self) -> None:
        if self.log_path is not None:
            try:
                self.log_path.unlink()
            except OSError:
                pass

    def _extend(self, client: Client) -> None:
        client.extend(self.run_id)
        now = time.monotonic()
        self.lease_ok_at = now
        self.next_lease = now + self.lease_seconds / 3
        self._ok()

    def _ok(self) -> None:
        self.runner.outage.ok()
        self.backoff.reset()
        self.quiet_until = 0.0

    def _ship(self, client: Client, max_chunks: int | None) -> None:
        """Send the log's new bytes, at most ``max_chunks`` chunks (None: all of it)."""
        if self.log_path is None:
            return
        try:
            size = self.log_path.stat().st_size
        except OSError:
            return
        sent = 0
        with open(self.log_path, "rb") as f:
            while self.offset < size and (max_chunks is None or sent < max_chunks):
                f.seek(self.offset)
                chunk = f.read(min(self.chunk, size - self.offset))
                if not chunk:
                    break
                try:
                    client.log(self.run_id, chunk)
                except TooLarge:
                    if self.chunk // 2 >= MIN_LOG_CHUNK:
                        self.chunk //= 2
                        continue
                    log.warning("%s: the server refuses log chunks of %d bytes; %d bytes of output "
                                "not shipped", self.label, self.chunk, size - self.offset)
                    self.offset = size
                    break
                self.offset += len(chunk)
                sent += 1
        if sent:
            self._ok()

    # -- after it exited ------------------------------------------------------------------------
    def _report(self, client: Client, rc: int | None, spawn_error: str | None) -> None:
        res = client.exit(self.run_id, exit_code=rc, timed_out=self.timed_out, spawn_error=spawn_error)
        self.runner.outage.ok()
        log.info("%s: exit reported: outcome %s%s", self.label, res.get("outcome") or "none",
                 "" if res.get("settled", True) else " (not settled yet)")
        self._discard_log()  # all of it is on the server now

    def _deliver(self, client: Client, what: str, call: Callable[[], None]) -> bool:
        """Call until the server answers. False when it was refused or dropped."""
        backoff = Backoff()
        while True:
            try:
                call()
                return True
            except Gone as err:
                log.info("%s: %s refused, the attempt was ended meanwhile (%s): dropped", self.label,
                         what, err)
                return False
            except TokenRefused as err:
                self.runner.set_fatal(f"the server refused the runner token ({err})")
                return False
            except Unavailable as err:
                self.runner.outage.failed(what, err)
            except RunnerError as err:
                log.error("%s: the server refused the %s: %s; dropped", self.label, what, err)
                return False
            now = time.monotonic()
            give_up = self.lease_ok_at + self.lease_seconds + REPORT_GRACE_SECONDS
            if self.runner.urgent.is_set():
                give_up = min(give_up, self.runner.urgent_at + self.runner.cfg.kill_grace_seconds
                              + URGENT_REPORT_SECONDS)
            if now >= give_up:
                log.warning("%s: %s not delivered, the server stayed unreachable; dropped (the server "
                            "retries the attempt once its lease has run out)", self.label, what)
                return False
            time.sleep(min(backoff.next(), max(0.1, give_up - now)))


def _status(rc: int) -> str:
    if rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"code {rc}"
