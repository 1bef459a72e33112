"""Fixtures for the dispatcher tests: a configured home, a real daemon process, waiting helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from agentkanban.config import Settings, load_settings
from agentkanban.dispatch import Dispatcher, spawner
from agentkanban.services import Actor, Ctx, open_ctx
from agentkanban.services import boards as boards_svc
from agentkanban.store import engine as store_engine

AGENT = str(Path(__file__).parent / "workers" / "agent.py")
T = TypeVar("T")


def agent(*args: str) -> list[str]:
    """The argv of the test worker in one of its modes."""
    return [sys.executable, AGENT, *args]


def wait_for(pred: Callable[[], T], timeout: float = 60.0, what: str = "condition",
             step: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


class Home:
    """``$KANBAN_HOME`` with a config.yaml, and a real-time service context on it."""

    def __init__(self, path: Path, db_url: str) -> None:
        self.path = path
        self.db_url = db_url
        self.env = {**os.environ, "KANBAN_HOME": str(path), "KANBAN_DATABASE_URL": db_url}
        for k in spawner.WORKER_VARS:
            self.env.pop(k, None)
        self._ctx: Ctx | None = None

    def configure(self, profiles: dict[str, Any], **dispatch: Any) -> Settings:
        cfg = {"profiles": profiles, "dispatch": {"interval_seconds": 0.5, "kill_grace_seconds": 0.5,
                                                  **dispatch}}
        (self.path / "config.yaml").write_text(yaml.safe_dump(cfg))
        self._ctx = None
        return self.settings

    @property
    def settings(self) -> Settings:
        return load_settings({"KANBAN_HOME": str(self.path), "KANBAN_DATABASE_URL": self.db_url})

    @property
    def ctx(self) -> Ctx:
        if self._ctx is None:
            self._ctx = open_ctx(self.settings)
            boards_svc.create(self._ctx, "default")
        return self._ctx

    def cli(self, *args: str, extra_env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "agentkanban", *args], env={**self.env, **(extra_env or {})},
                             capture_output=True, text=True, timeout=120)
        if check and res.returncode != 0:
            raise AssertionError(f"kanban {' '.join(args)} failed ({res.returncode}): {res.stderr}")
        return res


class Daemon:
    """A real ``kanban daemon`` process."""

    def __init__(self, home: Home, interval: float = 0.5) -> None:
        self.home = home
        self.interval = interval
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home.path / f"daemon-{len(list(home.path.glob('daemon-*.log')))}.log"

    def start(self) -> Daemon:
        out = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "daemon", "-v",
                                      "--interval", str(self.interval)],
                                     env=self.home.env, stdout=out, stderr=out)
        out.close()
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def kill_workers_of(home: Home) -> None:
    """Leave no worker behind: kill every process whose environment points at this home."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"KANBAN_HOME={home.path}".encode() in env and b"KANBAN_TASK_ID=" in env:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def khome(home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    h = Home(home, db_url)
    daemons: list[Daemon] = []
    h.daemons = daemons  # type: ignore[attr-defined]
    made: list[Dispatcher] = []  # each dispatcher owns its children: reap them all afterwards
    init = Dispatcher.__init__

    def _init(self: Dispatcher, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Dispatcher, "__init__", _init)
    try:
        yield h
    finally:
        for d in daemons:
            d.stop()
        kill_workers_of(h)
        for dispatcher in made:
            dispatcher.spawner.close()
        store_engine.close_all()


@pytest.fixture
def daemon(khome: Home) -> Callable[..., Daemon]:
    def start(interval: float = 0.5) -> Daemon:
        d = Daemon(khome, interval).start()
        khome.daemons.append(d)  # type: ignore[attr-defined]
        return d
    return start


@pytest.fixture
def user() -> Actor:
    return Actor("user")


def fake_ctx(home: Home, clock: Any) -> Ctx:
    """A context on the same database whose clock only moves when the test says so."""
    ctx = open_ctx(home.settings, clock=clock)
    home.ctx  # noqa: B018 - makes sure the default board exists
    return ctx
