"""The append-only event log and the notification deliveries it owes."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class NewEvent:
    """One event of a batch written by :func:`append_many`."""

    task_id: str
    kind: str
    payload: dict[str, Any] | None = None
    run_id: int | None = None
    # False when the task's subscriptions ended earlier in the same batch: nobody is owed it.
    owes: bool = True


# Not ``sort_by_parameter_order``: on SQLite that makes SQLAlchemy insert one row per statement.
# A multi-row INSERT numbers its rows in the order given (the table autoincrements, PostgreSQL
# draws from a sequence row by row), so the ids returned, sorted, line up with the rows.
_INSERT_MANY = insert(events).returning(events.c.id)
_SUBS_OF = select(notify_subs.c.task_id, notify_subs.c.platform, notify_subs.c.chat_id,
                  notify_subs.c.thread_id).where(
    notify_subs.c.task_id.in_(bindparam("b_ids", expanding=True)))


def append_many(tx: Tx, *, board: str, now: float, rows: list[NewEvent]) -> list[Event]:
    """:func:`append` for a batch, in order: one multi-row INSERT, and one for the deliveries
    the batch owes (same rule: an event people hear about, to every subscriber of its task)."""
    if not rows:
        return []
    ids = sorted(tx.conn.execute(_INSERT_MANY, [
        {"board": board, "task_id": r.task_id, "run_id": r.run_id, "kind": r.kind,
         "payload": dumps(r.payload), "created_at": now} for r in rows]).scalars())
    out = [Event(id=i, board=board, task_id=r.task_id, run_id=r.run_id, kind=r.kind,
                 payload=r.payload, created_at=now) for i, r in zip(ids, rows, strict=True)]
    owed = [e for e, r in zip(out, rows, strict=True) if r.owes and r.kind in NOTIFY_KINDS]
    if owed:
        subs: dict[str, list[tuple[str, str, str]]] = {}
        task_ids = sorted({e.task_id for e in owed})
        for i in range(0, len(task_ids), 2000):
            for tid, platform, chat, thread in tx.conn.execute(
                    _SUBS_OF, {"b_ids": task_ids[i:i + 2000]}):
                subs.setdefault(tid, []).append((platform, chat, thread))
        owe = [{"event_id": e.id, "board": board, "task_id": e.task_id, "platform": platform,
                "chat_id": chat, "thread_id": thread, "status": "pending", "attempts": 0,
                "next_attempt_at": now, "created_at": now}
               for e in owed for platform, chat, thread in subs.get(e.task_id, ())]
        if owe:
            tx.conn.execute(insert(deliveries), owe)
    tx.events.extend(out)
    return out


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
