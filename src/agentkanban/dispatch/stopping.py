"""Stop the worker of an attempt an operator ended (reclaim, reassign), when it runs on this host."""

from __future__ import annotations

from typing import Any

from . import procs


def stop_worker(grace: float, pid: int | None, run: Any) -> str:
    """A sentence for the operator: stopped, left to its own dispatcher, or could not be stopped."""
    if not pid or run is None:
        return ""
    host, _owner = procs.parse_lock(run.claim_lock)
    if host != procs.HOST:  # a pid means nothing on another machine; its dispatcher stops it
        return f"worker pid {pid} runs on {host or 'another host'}: its dispatcher will stop it"
    gone = procs.terminate(pid, run.id, grace)
    return f"worker pid {pid} {'stopped' if gone else 'did not stop (the dispatcher will retry)'}"
