"""Starting worker processes: the only module of the product that imports ``subprocess``.

A :class:`Spawner` is the registry of the children one dispatcher started, owned by that
:class:`~.dispatcher.Dispatcher` (``POST /dispatch`` asks the server's running dispatcher for a
pass instead of building another, so the children are never split between two registries).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ..config import SECRET_ENV, WORKER_ENV
from ..errors import SpawnError
from ..services.backoff import INFRASTRUCTURE, infrastructure_errno
from .logs import private_opener

# Variables describing *this* process as a worker must never leak into a child's environment.
WORKER_VARS = WORKER_ENV
# The server's own secrets: a worker proves itself with its attempt's run token, never with the
# API token (which would let it act as the dashboard on any task) or the notifier's bot tokens.
SECRET_VARS = SECRET_ENV
# The process basics every worker gets from the dispatcher's environment; anything else only when
# named in ``env_passthrough`` (docs/security.md).
BASE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TZ", "TERM",
            "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
EXIT_TTL_SECONDS = 600.0


@dataclass
class Child:
    pid: int
    run_id: int
    task_id: str
    board: str
    started: float  # monotonic
    proc: subprocess.Popen[bytes]


def worker_env(base: Mapping[str, str], passthrough: Iterable[str], extra: Mapping[str, str], *,
               hidden: Iterable[str] = ()) -> dict[str, str]:
    """A worker's whole environment: of ``base`` (the dispatcher's environment) only the process
    basics (:data:`BASE_ENV`) and the names matching a ``passthrough`` pattern, then ``extra`` (the
    profile's ``env`` and the protocol variables) over them. The server's secrets never: not by
    name, nor any variable whose value is one of ``hidden`` (the configured secrets' values)."""
    patterns = (*BASE_ENV, *passthrough)
    secret = {v for v in hidden if v}
    env = {k: v for k, v in base.items()
           if k not in WORKER_VARS and any(fnmatchcase(k, p) for p in patterns)}
    env.update(extra)
    return {k: v for k, v in env.items() if k not in SECRET_VARS and v not in secret}


@dataclass(frozen=True)
class RunAs:
    """The unix user a profile's workers run as (``run_as``), from the user database."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str

    def env(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}

    def popen_args(self) -> dict[str, Any]:
        if os.geteuid() == self.uid:  # the dispatcher is that user already
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}


def run_as(name: str) -> RunAs:
    """Look ``name`` up; refused unless this process may start processes as that user."""
    import pwd

    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        raise SpawnError(f"run_as: no user {name!r} on this machine") from None
    me = os.geteuid()
    if me not in (0, pw.pw_uid):
        raise SpawnError(f"run_as {name!r} needs the dispatcher to run as root (or as {name}); "
                         f"it runs as uid {me}")
    return RunAs(name, pw.pw_uid, pw.pw_gid, tuple(os.getgrouplist(name, pw.pw_gid)), pw.pw_dir)


class Spawner:
    """The children one dispatcher started, and the exit statuses not yet taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: dict[int, Child] = {}
        self._exits: dict[int, tuple[int, Child, float]] = {}

    def spawn(self, argv: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path,
              run_id: int, task_id: str, board: str, user: RunAs | None = None) -> int:
        """Start ``argv`` in its own session (so the whole group can be signalled), output to the
        log (opened here, so it stays the dispatcher's file even when ``user`` runs the worker)."""
        log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            with open(log_path, "ab", opener=private_opener) as log:
                proc = subprocess.Popen(  # noqa: S603 - argv comes from the operator's own config
                    argv, cwd=str(cwd), env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                    **(user.popen_args() if user else {}))
        except FileNotFoundError as err:
            if err.filename == str(cwd):
                raise SpawnError(f"workspace {cwd} does not exist") from None
            raise SpawnError(f"command not found: {argv[0]!r} (is it installed and on PATH?)") from None
        except PermissionError:
            by = f" by user {user.name}" if user else ""
            raise SpawnError(f"command is not executable{by}: {argv[0]!r}") from None
        except OSError as err:
            prefix = INFRASTRUCTURE if infrastructure_errno(err.errno) else ""
            raise SpawnError(f"{prefix}could not start {argv[0]!r}: {err.strerror or err}") from None
        with self._lock:
            self._children[proc.pid] = Child(proc.pid, run_id, task_id, board, time.monotonic(), proc)
        return proc.pid

    def collect_exits(self) -> None:
        """Reap children that exited; their status waits in the registry until taken."""
        now = time.monotonic()
        with self._lock:
            for pid, child in list(self._children.items()):
                rc = child.proc.poll()
                if rc is not None:
                    del self._children[pid]
                    self._exits[pid] = (rc, child, now)
            for pid, (_rc, _child, at) in list(self._exits.items()):
                if now - at > EXIT_TTL_SECONDS:
                    del self._exits[pid]

    def any_exited(self) -> bool:
        """Cheap check for the wait loop: has any child exited since the last collection?"""
        with self._lock:
            children = list(self._children.values())
        return any(c.proc.poll() is not None for c in children)

    def take_exit(self, pid: int, run_id: int) -> int | None:
        """The exit status of this process's child for ``run_id`` (negative: killed by that signal)."""
        with self._lock:
            entry = self._exits.get(pid)
            if entry is None or entry[1].run_id != run_id:
                return None
            del self._exits[pid]
        return entry[0]

    def is_running_child(self, pid: int) -> bool:
        with self._lock:
            return pid in self._children

    def running_children(self) -> list[Child]:
        with self._lock:
            return list(self._children.values())

    def close(self, timeout: float = 10.0) -> None:
        """Kill the children still running and reap them all (tests, and a process shutting down
        that must not leave its workers behind)."""
        with self._lock:
            children = list(self._children.values())
            self._children.clear()
            self._exits.clear()
        for child in children:
            if child.proc.poll() is None:
                child.proc.kill()
            child.proc.wait(timeout)


def run_command(argv: list[str], *, cwd: Path | None = None, timeout: float = 60.0) -> tuple[int, str]:
    """Run a short helper command (``git worktree add``) and return its status and output."""
    try:
        res = subprocess.run(argv, cwd=str(cwd) if cwd else None, capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        return 127, f"command not found: {argv[0]}"
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]} timed out after {timeout:.0f}s"
    return res.returncode, (res.stdout + res.stderr).strip()


def run_check(command: str, timeout: float, *, drop_env: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """Run one shell command (an acceptance check) in the current directory, in its own process
    group, killed whole at ``timeout``; its exit status (None: timed out) and output."""
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")
