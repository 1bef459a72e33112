"""Notification deliveries: what the notifier claims and records, and what people can inspect.

Deliveries are created by the event log itself (``store.events.append``), in the same transaction
as the event they answer. The notifier takes one at a time with :func:`claim_next`, sends it,
and records the outcome with :func:`record_sent`, :func:`record_retry` or :func:`record_failed`.
Each of those is a compare-and-set on the attempt number, so a notifier whose lease ran out
cannot overwrite the outcome of the attempt that replaced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.models import Delivery, Event, Task
from ..errors import Conflict, NotFound
from ..store import deliveries as store_deliveries
from ..store import tasks as store_tasks
from .base import Ctx
from .common import load

MAX_ERROR = 1_000


@dataclass(frozen=True)
class Job:
    """One claimed attempt: the delivery (status ``sending``), its event and its task."""

    delivery: Delivery
    event: Event
    task: Task

    @property
    def attempt(self) -> int:
        return self.delivery.attempts


def claim_next(ctx: Ctx, platforms: Iterable[str], *, lease_seconds: float,
               exclude: Iterable[int] = ()) -> Job | None:
    """Claim the oldest delivery that is due, for one of ``platforms``, or return None.

    A delivery left ``sending`` by a notifier that died is due again once its lease has expired.
    """
    names = list(platforms)
    now = ctx.now()
    # Look first in a read transaction: an idle notifier must not take the write lock every poll.
    with ctx.store.read() as conn:
        candidates = store_deliveries.next_claimable(conn, now, names, exclude)
    if not candidates:
        return None
    with ctx.store.write() as tx:
        for d in candidates:
            # Compare-and-set on (status, attempts): fails if another notifier took it meanwhile.
            if not store_deliveries.claim(tx.conn, d, now + lease_seconds):
                continue
            claimed = store_deliveries.get(tx.conn, d.id)
            event = store_deliveries.event(tx.conn, d.event_id)
            task = store_tasks.get(tx.conn, d.task_id)
            if claimed is None or event is None or task is None:  # pragma: no cover - FK cascade
                continue
            return Job(claimed, event, task)
    return None


def _finish(ctx: Ctx, job: Job, values: dict[str, object]) -> bool:
    with ctx.store.write() as tx:
        return store_deliveries.finish(tx.conn, job.delivery.id, job.attempt, values)


def record_sent(ctx: Ctx, job: Job, message_id: str | None) -> bool:
    """The platform accepted the message. False if this attempt no longer owned the delivery."""
    return _finish(ctx, job, {"status": store_deliveries.SENT, "sent_at": ctx.now(),
                              "message_id": (message_id or None) and str(message_id)[:256],
                              "last_error": None})


def record_retry(ctx: Ctx, job: Job, error: str, at: float) -> bool:
    """A transient failure: try again at ``at``."""
    return _finish(ctx, job, {"status": store_deliveries.PENDING, "next_attempt_at": at,
                              "last_error": error[:MAX_ERROR]})


def record_failed(ctx: Ctx, job: Job, error: str) -> bool:
    """A permanent failure: keep the error for people to see; never retried on its own."""
    return _finish(ctx, job, {"status": store_deliveries.FAILED, "last_error": error[:MAX_ERROR]})


def list_deliveries(ctx: Ctx, board: str, task_id: str | None = None,
                    limit: int = 50) -> list[Delivery]:
    """Recent deliveries of a board or of one task, oldest first, with status, error and kind."""
    with ctx.store.read() as conn:
        if task_id is not None:
            load(conn, board, task_id)
        return store_deliveries.listing(conn, board, task_id, limit=max(1, min(limit, 500)))


def retry(ctx: Ctx, board: str, delivery_id: int) -> Delivery:
    """Put a failed delivery back in the queue (after fixing a token or inviting the bot)."""
    now = ctx.now()
    with ctx.store.write() as tx:
        d = store_deliveries.get(tx.conn, delivery_id)
        if d is None or d.board != board:
            raise NotFound(f"delivery {delivery_id} not found on board {board!r}")
        if d.status != store_deliveries.FAILED:
            raise Conflict(f"delivery {delivery_id} is {d.status}; only failed deliveries are retried")
        store_deliveries.requeue(tx.conn, d.id, now)
        out = store_deliveries.get(tx.conn, d.id)
        assert out is not None
        return out
