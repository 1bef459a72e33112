"""How an attempt whose worker is gone without completing or blocking its task ended: the one
classification for a local dispatcher's children and a remote runner's reports alike."""

from __future__ import annotations

import signal

from ..domain import models as m
from ..domain.models import Run
from . import backoff

RATE_LIMIT_EXIT = 75  # EX_TEMPFAIL


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def classify(rc: int | None, pid: int | str, run: Run, now: float,
             timed_out: bool) -> tuple[str, str, bool]:
    """``(outcome, error, counts_as_failure)`` for a worker that is gone while its attempt is open.
    ``pid``: the local worker's process id, or how a remote one is named."""
    who = f"worker pid {pid}" if isinstance(pid, int) else pid
    if timed_out or (run.max_runtime_seconds and now - run.started_at >= run.max_runtime_seconds):
        return (m.OUTCOME_TIMED_OUT,
                f"exceeded max runtime of {run.max_runtime_seconds}s; {who} was stopped", True)
    if rc is None:
        # Only the parent learns an exit status. Counted all the same: with one-shot passes
        # (`kanban dispatch` from cron) every worker outlives its parent, and a worker that
        # always fails must still reach the failure limit.
        return (m.OUTCOME_CRASHED, f"{who} ended without completing or blocking the "
                                   "task (exit status unknown: the dispatcher that started it had "
                                   "exited)", True)
    if rc == 0:
        return (m.OUTCOME_PROTOCOL_VIOLATION,
                f"{who} exited 0 without completing or blocking the task", True)
    if rc == backoff.UNAVAILABLE_EXIT:
        return (m.OUTCOME_CRASHED, f"{backoff.INFRASTRUCTURE}{who} exited "
                                   f"{rc}: the board was unreachable", False)
    if rc == RATE_LIMIT_EXIT:
        return (m.OUTCOME_RATE_LIMITED,
                f"{who} exited {RATE_LIMIT_EXIT} (rate limited); retried after a cool-down",
                False)
    if rc < 0:
        return m.OUTCOME_CRASHED, f"{who} was killed by {_signal_name(-rc)}", True
    return m.OUTCOME_CRASHED, f"{who} exited with code {rc}", True
