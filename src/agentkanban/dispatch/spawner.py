"""Starting worker processes: the only module of the product that imports ``subprocess``.

Children are kept in one registry per process (not per :class:`Dispatcher` object) because the
server may run a one-off pass for ``POST /dispatch`` beside its background loop: whichever pass
notices that a child exited must find its exit status here.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpawnError
from ..services.backoff import INFRASTRUCTURE, infrastructure_errno
from .logs import private_opener

# Variables describing *this* process as a worker must never leak into a child's environment.
WORKER_VARS = ("KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN", "KANBAN_PROFILE",
               "KANBAN_WORKSPACE", "KANBAN_BOARD")
# The server's own secrets: a worker proves itself with its attempt's run token, never with the
# API token (which would let it act as the dashboard on any task) or the notifier's bot tokens.
SECRET_VARS = ("KANBAN_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN")
EXIT_TTL_SECONDS = 600.0


@dataclass
class Child:
    pid: int
    run_id: int
    task_id: str
    board: str
    started: float  # monotonic
    proc: subprocess.Popen[bytes]


_lock = threading.Lock()
_children: dict[int, Child] = {}
_exits: dict[int, tuple[int, Child, float]] = {}


def base_env() -> dict[str, str]:
    """A worker inherits the dispatcher's environment (PATH, HOME, credentials of the agent CLIs),
    as any process launcher does, minus the variables that would make it look like another worker
    and the server's own secrets."""
    env = dict(os.environ)
    for k in (*WORKER_VARS, *SECRET_VARS):
        env.pop(k, None)
    return env


def spawn(argv: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path, run_id: int,
          task_id: str, board: str) -> int:
    """Start ``argv`` in its own session (so the whole group can be signalled), output to the log."""
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with open(log_path, "ab", opener=private_opener) as log:
            proc = subprocess.Popen(  # noqa: S603 - argv comes from the operator's own config
                argv, cwd=str(cwd), env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    except FileNotFoundError as err:
        if err.filename == str(cwd):
            raise SpawnError(f"workspace {cwd} does not exist") from None
        raise SpawnError(f"command not found: {argv[0]!r} (is it installed and on PATH?)") from None
    except PermissionError:
        raise SpawnError(f"command is not executable: {argv[0]!r}") from None
    except OSError as err:
        prefix = INFRASTRUCTURE if infrastructure_errno(err.errno) else ""
        raise SpawnError(f"{prefix}could not start {argv[0]!r}: {err.strerror or err}") from None
    with _lock:
        _children[proc.pid] = Child(proc.pid, run_id, task_id, board, time.monotonic(), proc)
    return proc.pid


def collect_exits() -> None:
    """Reap children that exited; their status waits in the registry until taken."""
    now = time.monotonic()
    with _lock:
        for pid, child in list(_children.items()):
            rc = child.proc.poll()
            if rc is not None:
                del _children[pid]
                _exits[pid] = (rc, child, now)
        for pid, (_rc, _child, at) in list(_exits.items()):
            if now - at > EXIT_TTL_SECONDS:
                del _exits[pid]


def any_exited() -> bool:
    """Cheap check for the wait loop: has any child exited since the last collection?"""
    with _lock:
        children = list(_children.values())
    return any(c.proc.poll() is not None for c in children)


def take_exit(pid: int, run_id: int) -> int | None:
    """The exit status of this process's child for ``run_id`` (negative: killed by that signal)."""
    with _lock:
        entry = _exits.get(pid)
        if entry is None or entry[1].run_id != run_id:
            return None
        del _exits[pid]
    return entry[0]


def is_running_child(pid: int) -> bool:
    with _lock:
        return pid in _children


def running_children() -> list[Child]:
    with _lock:
        return list(_children.values())


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
