"""The append-only event log and the notification deliveries it owes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Float, String, bindparam, func, insert, literal, select

from ..domain.events import NOTIFY_KINDS
from ..domain.models import Event
from .engine import Tx
from .rows import dumps, to_event
from .schema import deliveries, events, notify_subs

_INSERT = insert(events).returning(events.c.id)
# What every subscriber of a task is owed for one event. Built once (see store.tasks); the bind
# types matter on PostgreSQL, which cannot infer a type for a parameter in a SELECT list.
_OWE = insert(deliveries).from_select(
    ["event_id", "board", "task_id", "platform", "chat_id", "thread_id", "status", "attempts",
     "next_attempt_at", "created_at"],
    select(bindparam("b_event", type_=BigInteger), bindparam("b_board", type_=String),
           notify_subs.c.task_id, notify_subs.c.platform, notify_subs.c.chat_id,
           notify_subs.c.thread_id, literal("pending"), literal(0),
           bindparam("b_now", type_=Float), bindparam("b_now", type_=Float))
    .where(notify_subs.c.task_id == bindparam("b_task")),
)


def append(
    tx: Tx,
    *,
    board: str,
    task_id: str,
    kind: str,
    now: float,
    payload: dict[str, Any] | None = None,
    run_id: int | None = None,
) -> Event:
    """Append one event; if it is one people hear about, owe a delivery to every subscriber."""
    event_id = tx.conn.execute(_INSERT, {
        "board": board, "task_id": task_id, "run_id": run_id, "kind": kind,
        "payload": dumps(payload), "created_at": now}).scalar_one()
    if kind in NOTIFY_KINDS:
        tx.conn.execute(_OWE, {"b_event": event_id, "b_board": board, "b_now": now,
                               "b_task": task_id})
    ev = Event(id=event_id, board=board, task_id=task_id, run_id=run_id, kind=kind,
               payload=payload, created_at=now)
    tx.events.append(ev)
    return ev


def for_task(conn: Connection, task_id: str, limit: int = 50) -> list[Event]:
    """The most recent ``limit`` events of a task, oldest first."""
    rows = conn.execute(
        select(events).where(events.c.task_id == task_id).order_by(events.c.id.desc()).limit(limit)
    ).all()
    return [to_event(r) for r in reversed(rows)]


def since(conn: Connection, cursor: int, *, board: str | None = None, limit: int = 200,
          kinds: frozenset[str] | None = None, task_id: str | None = None) -> list[Event]:
    q = select(events).where(events.c.id > cursor)
    if board is not None:
        q = q.where(events.c.board == board)
    if kinds:
        q = q.where(events.c.kind.in_(sorted(kinds)))
    if task_id is not None:
        q = q.where(events.c.task_id == task_id)
    return [to_event(r) for r in conn.execute(q.order_by(events.c.id).limit(limit))]


def max_id(conn: Connection, board: str | None = None) -> int:
    q = select(func.coalesce(func.max(events.c.id), 0))
    if board is not None:
        q = q.where(events.c.board == board)
    return int(conn.execute(q).scalar_one())


def delete_older_than(conn: Connection, board: str, before: float, statuses: tuple[str, ...]) -> int:
    from .schema import tasks

    done_ids = select(tasks.c.id).where(tasks.c.board == board, tasks.c.status.in_(statuses))
    res = conn.execute(
        events.delete().where(events.c.board == board, events.c.created_at < before,
                              events.c.task_id.in_(done_ids))
    )
    return res.rowcount or 0
