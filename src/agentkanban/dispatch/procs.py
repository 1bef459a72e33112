"""Host-local process facts: is a worker still alive, is it really ours, signalling its group.

Only ``os`` and ``/proc`` here; starting processes belongs to :mod:`.spawner`.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

HOST = socket.gethostname()
_PROC = Path("/proc")
HAS_PROC = (_PROC / "self" / "stat").exists()


def lock_for_this_process(nonce: str) -> str:
    """The claim lock a dispatcher writes: which host and process own the attempt."""
    return f"{HOST}:{os.getpid()}:{nonce}"


def parse_lock(lock: str | None) -> tuple[str, int | None]:
    parts = (lock or "").split(":")
    host = parts[0] if parts else ""
    try:
        pid = int(parts[1]) if len(parts) > 1 else None
    except ValueError:
        pid = None
    return host, pid


def _state(pid: int) -> str | None:
    """The one-letter state from ``/proc/<pid>/stat`` ('Z' zombie), None when unknown."""
    if not HAS_PROC:
        return None  # no /proc (macOS): liveness rests on kill(pid, 0) alone
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return "gone"
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    rest = raw.rsplit(")", 1)[-1].split()
    return rest[0] if rest else None


def pid_alive(pid: int | None) -> bool:
    """True while the process exists and is not a zombie (an exited child nobody reaped)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return _state(pid) not in ("Z", "X", "gone")


def _environ(pid: int) -> dict[str, str] | None:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    out = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def is_worker_of(pid: int, run_id: int) -> bool | None:
    """Whether ``pid`` was started for ``run_id`` (guards against pid reuse); None if unknowable."""
    env = _environ(pid)
    if env is None:
        return None
    return env.get("KANBAN_RUN_ID") == str(run_id)


def worker_alive(pid: int | None, run_id: int) -> bool:
    if not pid or not pid_alive(pid):
        return False
    return is_worker_of(pid, run_id) is not False


def find_worker(run_id: int, task_id: str) -> int | None:
    """Find a live process started for this attempt (its environment names the run).

    Used when a dispatcher died between starting a worker and recording its pid.
    """
    if not HAS_PROC:
        return None
    want_run, want_task = str(run_id), task_id
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        env = _environ(pid)
        if env and env.get("KANBAN_RUN_ID") == want_run and env.get("KANBAN_TASK_ID") == want_task:
            try:
                leader = os.getpgid(pid) == pid
            except ProcessLookupError:
                continue
            if leader and pid_alive(pid):
                return pid
    return None


def signal_group(pid: int, sig: int) -> bool:
    """Signal the worker's whole process group (it leads its own session); False if none is left."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


def terminate(pid: int, run_id: int | None, grace: float) -> bool:
    """TERM the worker's group, wait up to ``grace`` seconds, then KILL. True if it is gone.

    With ``run_id`` the process must prove it is that attempt's worker before being signalled.
    """
    if not pid_alive(pid):
        signal_group(pid, signal.SIGKILL)  # leftovers of a group whose leader already exited
        return True
    if run_id is not None and is_worker_of(pid, run_id) is False:
        return True  # the pid now belongs to something else: the worker is long gone
    signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)
    return not pid_alive(pid)
