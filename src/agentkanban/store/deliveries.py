"""Notification deliveries: claiming the next one owed, recording how an attempt ended.

A delivery is ``pending`` until a notifier claims it. Claiming flips it to ``sending``, bumps
``attempts`` and sets ``next_attempt_at`` to the end of a lease, all in one compare-and-set
``UPDATE``; the result of the attempt is recorded with another compare-and-set keyed on the same
``attempts`` value. A notifier that dies between the two leaves the row ``sending``; once the
lease has run out, any notifier may claim it again (and resend with the same idempotency key).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, exists, select, update

from ..domain.models import Delivery, Event
from .rows import to_delivery, to_event
from .schema import deliveries, events

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNFINISHED = (PENDING, SENDING)


def next_claimable(conn: Connection, now: float, platforms: Iterable[str],
                   exclude: Iterable[int] = (), limit: int = 20) -> list[Delivery]:
    """Deliveries due now whose destination has nothing earlier still unfinished, oldest first.

    Only the head of each destination's queue qualifies, so messages to one chat go out in event
    order even when an earlier one is waiting out a backoff or is in flight elsewhere.
    """
    names = sorted(set(platforms))
    if not names:
        return []
    earlier = deliveries.alias("earlier")
    blocked_by_earlier = exists().where(
        earlier.c.platform == deliveries.c.platform,
        earlier.c.chat_id == deliveries.c.chat_id,
        earlier.c.thread_id == deliveries.c.thread_id,
        earlier.c.id < deliveries.c.id,
        earlier.c.status.in_(UNFINISHED),
    )
    q = select(deliveries).where(
        deliveries.c.status.in_(UNFINISHED),
        deliveries.c.next_attempt_at <= now,
        deliveries.c.platform.in_(names),
        ~blocked_by_earlier,
    )
    skip = sorted(set(exclude))
    if skip:
        q = q.where(deliveries.c.id.not_in(skip))
    return [to_delivery(r) for r in conn.execute(q.order_by(deliveries.c.id).limit(limit))]


def claim(conn: Connection, d: Delivery, lease_until: float) -> bool:
    """Take ``d`` for one attempt, if nobody changed it since it was read."""
    res = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == d.id, deliveries.c.status == d.status,
               deliveries.c.attempts == d.attempts)
        .values(status=SENDING, attempts=d.attempts + 1, next_attempt_at=lease_until)
    )
    return (res.rowcount or 0) == 1


def finish(conn: Connection, delivery_id: int, attempt: int, values: dict[str, Any]) -> bool:
    """Record the end of attempt number ``attempt``; False when that attempt no longer owns it."""
    res = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status == SENDING,
               deliveries.c.attempts == attempt)
        .values(**values)
    )
    return (res.rowcount or 0) == 1


def get(conn: Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
    return to_delivery(row) if row is not None else None


def event(conn: Connection, event_id: int) -> Event | None:
    row = conn.execute(select(events).where(events.c.id == event_id)).first()
    return to_event(row) if row is not None else None


def listing(conn: Connection, board: str, task_id: str | None = None,
            limit: int = 50) -> list[Delivery]:
    """The most recent ``limit`` deliveries of a board (or one task), oldest first, with kinds."""
    q = (select(deliveries, events.c.kind)
         .join(events, events.c.id == deliveries.c.event_id)
         .where(deliveries.c.board == board))
    if task_id is not None:
        q = q.where(deliveries.c.task_id == task_id)
    rows = conn.execute(q.order_by(deliveries.c.id.desc()).limit(limit)).all()
    return [to_delivery(r) for r in reversed(rows)]


def requeue(conn: Connection, delivery_id: int, now: float) -> bool:
    """A failed delivery goes back to pending, due now, with a fresh attempt count."""
    res = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status == FAILED)
        .values(status=PENDING, next_attempt_at=now, attempts=0, last_error=None)
    )
    return (res.rowcount or 0) == 1
