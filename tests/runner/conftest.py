"""What the runner tests share: real ``kanban runner`` subprocesses against a real ``kanban serve``
(each module starts its own ``server``), each runner with its own KANBAN_HOME and no database in
its environment, and the helpers that look at the board while they work."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..serving import Server

LEASE = 3  # the server's claim_ttl_seconds: a lost runner's attempt is reclaimed this fast
BACKOFF = {"base_seconds": 0.5, "max_seconds": 1, "jitter": 0}


def server_config(lease: int = LEASE, profiles: dict[str, Any] | None = None) -> dict[str, Any]:
    """A server's config.yaml: a quick dispatcher, the lease ``lease`` seconds, short backoffs."""
    return {
        "dispatch": {
            "interval_seconds": 0.2,
            "claim_ttl_seconds": lease,
            "failure_limit": 5,
            "kill_grace_seconds": 1,
            "retry_backoff": {k: dict(BACKOFF)
                              for k in ("spawn_failed", "crashed", "timed_out", "lost_runner")},
        },
        **({"profiles": profiles} if profiles else {}),
    }


def kanban(srv: Server, *args: str) -> str:
    """``kanban ARGS`` on the server's machine (its KANBAN_HOME, its database)."""
    res = subprocess.run([sys.executable, "-m", "agentkanban", *args], env=srv.env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def make_token(srv: Server, name: str, *options: str) -> str:
    out = kanban(srv, "runners", "token", "create", name, *options)
    m = re.search(r"kbr_[A-Za-z0-9_\-]+", out)
    assert m, out
    return m.group(0)


class Runner:
    def __init__(self, proc: subprocess.Popen[bytes], home: Path, log: Path, name: str) -> None:
        self.proc, self.home, self.log, self.name = proc, home, log, name

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 20) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the runner did not exit:\n{self.text()}") from None


class RunnerPool:
    """Starts runners (each in its own directory under ``root``) and stops them at the end, with
    whatever workers they left behind (a runner killed with -9 leaves its worker running)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Runner] = []

    def start(self, srv: Server, name: str, profiles: dict[str, Any], *, token: str | None = None,
              capacity: int = 1, labels: list[str] | None = None,
              extra: dict[str, Any] | None = None) -> Runner:
        home = self.root / f"runner-{name}"
        home.mkdir()
        token = token or make_token(srv, name)
        token_file = home / "token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        (home / "runner.yaml").write_text(yaml.safe_dump(
            {"capacity": capacity, "kill_grace_seconds": 1, "claim_wait_seconds": 2,
             "profiles": profiles, **(extra or {})}))
        # What a second machine would have: no database, none of the server's variables.
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "KANBAN_HOME": str(home),
               "SECRET_OF_THE_RUNNER": "do-not-leak"}
        log = home / "runner.log"
        flags = [arg for label in labels or [] for arg in ("--label", label)]
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "agentkanban", "runner", "--server", srv.url,
                 "--token-file", str(token_file), *flags], env=env, stdout=out, stderr=subprocess.STDOUT)
        runner = Runner(proc, home, log, name)
        self.started.append(runner)
        return runner

    def stop_all(self) -> None:
        for r in self.started:
            if r.proc.poll() is None:
                r.proc.send_signal(signal.SIGCONT)  # in case a test left it stopped
                r.proc.send_signal(signal.SIGTERM)
                r.proc.send_signal(signal.SIGTERM)  # a second one: stop the workers too
                try:
                    r.proc.wait(15)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
                    r.proc.wait(5)
        for pid in workers_under(self.root):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        for r in self.started:
            assert not (r.home / "kanban.db").exists(), "the runner opened a database"


def workers_under(root: Path) -> list[int]:
    """The process groups of the workers still running in a workspace under ``root`` (Linux: by
    their working directory in /proc). Each worker leads its own group."""
    prefix = str(root.resolve()) + os.sep
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            pgid = os.getpgid(int(entry.name))
        except OSError:
            continue
        if cwd.startswith(prefix) and pgid == int(entry.name):
            found.append(pgid)
    return found


@pytest.fixture
def runner_pool(tmp_path: Path) -> Iterator[RunnerPool]:
    pool = RunnerPool(tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def start_runner(server: Server, runner_pool: RunnerPool) -> Callable[..., Runner]:
    """``start_runner(name, profiles, token=..., capacity=..., labels=..., extra=...)`` against
    this module's ``server``."""

    def start(name: str, profiles: dict[str, Any], **kw: Any) -> Runner:
        return runner_pool.start(server, name, profiles, **kw)

    return start


def wait_for(predicate: Callable[[], Any], timeout: float = 20, what: str = "condition",
             runner: Runner | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\nrunner log:\n{runner.text()}" if runner else ""
            raise AssertionError(f"{what}: not met in {timeout}s{extra}")
        time.sleep(0.1)


def runs(srv: Server, task_id: str) -> list[dict[str, Any]]:
    return srv.task(task_id)["runs"]  # type: ignore[no-any-return]


def ended(srv: Server, task_id: str) -> list[dict[str, Any]]:
    return [r for r in runs(srv, task_id) if r.get("outcome")]


def sh(script: str) -> dict[str, Any]:
    return {"command": ["sh", "-c", script]}
