"""One worker process of the runner: its workspace, argv, environment, log file and signals.

The only module of the runner that imports ``subprocess`` (an import-linter contract).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import Profile
from ..dispatch import procs
from ..dispatch.placeholders import substitute
from ..errors import SpawnError

# Taken from the runner's own environment; everything else a worker gets is named.
ALLOWED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TERM", "TMPDIR", "SHELL")
ALLOWED_PREFIXES = ("LC_",)
# Never handed to a worker, whatever asks for them: the runner's token, the board's API token,
# and what would point a worker's `kanban` at a local database instead of the server.
NEVER_ENV = frozenset({"KANBAN_RUNNER_TOKEN", "KANBAN_TOKEN", "KANBAN_DATABASE_URL", "KANBAN_HOME"})
# Out of descriptors, processes, memory or disk on this machine: the runner's fault, not the
# task's. Told as the dispatcher tells it (the "infrastructure: " prefix), so it is not counted.
INFRASTRUCTURE = "infrastructure: "
_INFRA_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM, errno.ENOSPC, errno.EIO})
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _part(value: str, what: str) -> str:
    if not _SAFE_PART.match(value) or ".." in value:
        raise SpawnError(f"the server sent an unusable {what} {value!r}")
    return value


def workspace(root: Path, board: str, task_id: str) -> Path:
    """``<root>/<board>/<task_id>``, made private (0700) if missing."""
    path = root / _part(board, "board") / _part(task_id, "task id")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as err:
        prefix = INFRASTRUCTURE if err.errno in _INFRA_ERRNOS else ""
        raise SpawnError(f"{prefix}cannot make the workspace {path}: {err.strerror}") from None
    return path


def log_file(log_dir: Path, board: str, task_id: str, run_id: int) -> Path:
    return log_dir / _part(board, "board") / f"{_part(task_id, 'task id')}.{int(run_id)}.log"


def passthrough_names(profile: Profile) -> list[str]:
    """The profile's ``env_passthrough`` (names of the runner's variables a worker may see)."""
    names = getattr(profile, "env_passthrough", None) or []
    return [str(n) for n in names]


def worker_env(profile: Profile, item: Mapping[str, Any], *, server: str, workspace: Path,
               secret: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a worker runs with: a short allow-list of the runner's environment (plus the profile's
    ``env_passthrough``), the variables the server sent, the profile's ``env``, then the worker
    protocol's own. Never the runner token (by name or by value) nor the board's secrets."""
    base = os.environ if base is None else base
    allowed = set(ALLOWED_ENV) | set(passthrough_names(profile))
    env = {k: v for k, v in base.items() if k in allowed or k.startswith(ALLOWED_PREFIXES)}
    values = placeholders(item, workspace)
    env.update({str(k): str(v) for k, v in (item.get("env") or {}).items()})
    env.update({k: substitute(v, values) for k, v in profile.env.items()})
    env.update({
        "KANBAN_URL": server, "KANBAN_RUN_TOKEN": str(item.get("run_token") or ""),
        "KANBAN_RUN_ID": str(item["run_id"]), "KANBAN_TASK_ID": str(item["task_id"]),
        "KANBAN_BOARD": str(item["board"]), "KANBAN_PROFILE": str(item["profile"]),
        "KANBAN_WORKSPACE": str(workspace)})
    return {k: v for k, v in env.items() if k not in NEVER_ENV and not (secret and v == secret)}


def placeholders(item: Mapping[str, Any], workspace: Path) -> dict[str, str]:
    given = {str(k): str(v) for k, v in (item.get("placeholders") or {}).items() if v is not None}
    return {**given, "task_id": str(item["task_id"]), "board": str(item["board"]),
            "run_id": str(item["run_id"]), "workspace": str(workspace)}


def argv(profile: Profile, item: Mapping[str, Any], workspace: Path) -> list[str]:
    """The profile's command (its ``resume_command`` when the server names a session to resume)."""
    values = placeholders(item, workspace)
    command = profile.resume_command if values.get("session_id") and profile.resume_command \
        else profile.command
    return [substitute(a, values) for a in command]


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def start(args: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``args`` in its own session (its whole group can be signalled), output to the log."""
    try:
        log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(log_path, "ab", opener=_private) as out:
            return subprocess.Popen(  # noqa: S603 - argv comes from this machine's own profile
                args, cwd=str(cwd), env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    except FileNotFoundError as err:
        if err.filename == str(cwd):
            raise SpawnError(f"workspace {cwd} does not exist") from None
        raise SpawnError(f"command not found: {args[0]!r} (is it installed and on PATH?)") from None
    except PermissionError:
        raise SpawnError(f"command is not executable: {args[0]!r}") from None
    except OSError as err:
        prefix = INFRASTRUCTURE if err.errno in _INFRA_ERRNOS else ""
        raise SpawnError(f"{prefix}could not start {args[0]!r}: {err.strerror or err}") from None


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the worker's whole process group (it leads its own session)."""
    procs.signal_group(proc.pid, sig)


def kill_leftovers(proc: subprocess.Popen[bytes]) -> None:
    """What the worker started and left behind in its group, after it exited itself."""
    procs.signal_group(proc.pid, signal.SIGKILL)


def wait(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The worker's exit status once it exits within ``timeout`` seconds, else None."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
