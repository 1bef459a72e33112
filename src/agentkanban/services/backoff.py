"""When a task that failed may be tried again: the one retry rule, for the dispatcher and for
everything that shows it (the card, ``kanban show``, the API).

After an attempt fails, the task is ready again but waits: ``base * 2**(failures - 1)`` seconds,
capped, per failure class (``dispatch.retry_backoff`` in the config), minus a jitter drawn from
the attempt's id. The jitter is random across tasks but fixed for one attempt, so the dispatcher
and every reader compute the same "next attempt at" without storing it.

A task waits only while its last failure stands (``last_failure_error``): an operator who
unblocks, reassigns or reclaims it clears that and it runs at once.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import Backoff, Settings
from ..domain.models import (
    OUTCOME_CRASHED,
    OUTCOME_PROTOCOL_VIOLATION,
    OUTCOME_RATE_LIMITED,
    OUTCOME_RECLAIMED,
    OUTCOME_RUNNER_LOST,
    OUTCOME_SPAWN_FAILED,
    OUTCOME_TIMED_OUT,
    Run,
    Task,
)
from ..domain.statuses import Status
from ..store import runs as store_runs
from ..store import tasks as store_tasks
from .base import Ctx

# Errors of attempts that failed for a reason on this machine's side start with this; they are
# never counted against the task (see :func:`is_infrastructure`).
INFRASTRUCTURE = "infrastructure: "


@dataclass(frozen=True)
class Retry:
    """A ready task waiting out its backoff."""

    task_id: str
    at: float  # the next attempt may start at this time
    failure_class: str
    failures: int

    def to_dict(self) -> dict[str, object]:
        return {"next_attempt_at": self.at, "failure_class": self.failure_class,
                "failures": self.failures}


# OS errors that say this machine is short of something, not that the worker's command is wrong.
INFRA_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM, errno.ENOSPC,
                          errno.EIO, getattr(errno, "ESTALE", errno.EIO)})
# A worker's `kanban` command exits with this when the database stayed unreachable (EX_UNAVAILABLE).
UNAVAILABLE_EXIT = 69


def is_infrastructure(error: str | None) -> bool:
    return bool(error) and str(error).startswith(INFRASTRUCTURE)


def infrastructure_errno(code: int | None) -> bool:
    return code in INFRA_ERRNOS


def failure_class(run: Run) -> str | None:
    if is_infrastructure(run.error):
        return "infrastructure"
    return {
        OUTCOME_SPAWN_FAILED: "spawn_failed",
        OUTCOME_CRASHED: "crashed",
        OUTCOME_PROTOCOL_VIOLATION: "crashed",
        OUTCOME_TIMED_OUT: "timed_out",
        OUTCOME_RECLAIMED: "lost_runner",
        OUTCOME_RUNNER_LOST: "lost_runner",
        OUTCOME_RATE_LIMITED: "rate_limited",
    }.get(run.outcome or "")


def delay(rule: Backoff, failures: int, seed: int) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (1 = the first)."""
    exponent = min(max(failures, 1) - 1, 32)
    full = min(rule.max_seconds, rule.base_seconds * (2 ** exponent))
    return full * (1 - rule.jitter * random.Random(seed).random())


def next_attempt(task: Task, last: Run | None, settings: Settings) -> Retry | None:
    """When ``task`` may be tried again, or None when nothing holds it back."""
    return retry_for(task.id, task.status.value, task.last_failure_error,
                     task.consecutive_failures, last, settings)


def retry_for(task_id: str, status: str, last_failure_error: str | None, failures: int,
              last: Run | None, settings: Settings) -> Retry | None:
    """:func:`next_attempt` from a task's fields (a card of the board is a dict, not a Task)."""
    if status != Status.READY.value or last_failure_error is None or last is None:
        return None
    if last.ended_at is None:
        return None
    cls = failure_class(last)
    if cls is None:
        return None
    if cls == "rate_limited":
        wait = float(settings.dispatch.rate_limit_cooldown_seconds)
    else:
        rule: Backoff = getattr(settings.dispatch.retry_backoff, cls)
        wait = delay(rule, failures, last.id)
    return Retry(task_id, last.ended_at + wait, cls, failures)


def waiting(ctx: Ctx, task_ids: Iterable[str]) -> dict[str, Retry]:
    """Those of ``task_ids`` still waiting out a backoff now, each with its next attempt time."""
    ids = list(task_ids)
    if not ids:
        return {}
    now = ctx.now()
    with ctx.store.read() as conn:
        tasks = [t for t in (store_tasks.get(conn, tid) for tid in ids) if t is not None]
        last = store_runs.last_closed(conn, [t.id for t in tasks])
    out = {}
    for t in tasks:
        retry = next_attempt(t, last.get(t.id), ctx.settings)
        if retry is not None and retry.at > now:
            out[t.id] = retry
    return out
