"""The append-only event log and the notification deliveries it owes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select

from ..domain.events import NOTIFY_KINDS
from ..domain.models import Event
from . import dialect
from .engine import Tx
from .rows import dumps, to_event
from .schema import deliveries, events, notify_subs, runs, tasks

# Not ``sort_by_parameter_order``: on SQLite that makes SQLAlchemy insert one row per statement.
# A multi-row INSERT numbers its rows in the order given (the table autoincrements, PostgreSQL
# draws from a sequence row by row), so the ids returned, sorted, line up with the rows.
_INSERT_MANY = insert(events).returning(events.c.id)
_SUBS_OF = select(notify_subs.c.task_id, notify_subs.c.platform, notify_subs.c.chat_id,
                  notify_subs.c.thread_id).where(
    notify_subs.c.task_id.in_(bindparam("b_ids", expanding=True)))


@dataclass(frozen=True)
class NewEvent:
    """One event of a batch written by :func:`append_many`."""

    task_id: str
    kind: str
    payload: dict[str, Any] | None = None
    run_id: int | None = None
    # False when the task's subscriptions ended earlier in the same batch: nobody is owed it.
    owes: bool = True


@dataclass(frozen=True)
class _Pending:
    board: str
    now: float
    row: NewEvent
    owed_to: tuple[tuple[str, str, str], ...]  # (platform, chat, thread) of each subscriber


def append(tx: Tx, *, board: str, task_id: str, kind: str, now: float,
           payload: dict[str, Any] | None = None, run_id: int | None = None,
           also_owe: list[tuple[str, str, str]] | None = None) -> None:
    """Append one event; if it is one people hear about, owe a delivery to every subscriber of
    its task, and to ``also_owe`` (``(platform, chat, thread)`` destinations beyond those)."""
    append_many(tx, board=board, now=now,
                rows=[NewEvent(task_id=task_id, kind=kind, payload=payload, run_id=run_id)])
    if also_owe:
        last = tx.pending[-1]
        extra = tuple(d for d in dict.fromkeys(also_owe) if d not in last.owed_to)
        tx.pending[-1] = _Pending(last.board, last.now, last.row, last.owed_to + extra)


def append_many(tx: Tx, *, board: str, now: float, rows: list[NewEvent]) -> None:
    """Queue events, in order, to be written when the transaction commits.

    Who is owed a delivery is decided now, from the subscriptions as they stand at this point of
    the transaction (a completion is owed to the subscribers its own transaction then removes).
    The rows themselves are written by :func:`_flush` just before the commit, so on PostgreSQL
    the lock that keeps event ids in commit order is held only for that last moment.
    """
    if not rows:
        return
    subs: dict[str, list[tuple[str, str, str]]] = {}
    owing = sorted({r.task_id for r in rows if r.owes and r.kind in NOTIFY_KINDS})
    for i in range(0, len(owing), 2000):
        for tid, platform, chat, thread in tx.conn.execute(_SUBS_OF, {"b_ids": owing[i:i + 2000]}):
            subs.setdefault(tid, []).append((platform, chat, thread))
    if not tx.pending:
        tx.before_commit.append(_flush)
    tx.pending.extend(
        _Pending(board, now, r, tuple(subs.get(r.task_id, ())) if r.owes and r.kind in NOTIFY_KINDS
                 else ()) for r in rows)


def _flush(tx: Tx) -> None:
    """Write the queued events (one multi-row INSERT) and the deliveries they owe."""
    pending, tx.pending = tx.pending, []
    if not pending:
        return
    tx.xid = dialect.lock_event_order(tx.conn)
    ids = sorted(tx.conn.execute(_INSERT_MANY, [
        {"board": p.board, "task_id": p.row.task_id, "run_id": p.row.run_id, "kind": p.row.kind,
         "payload": dumps(p.row.payload), "created_at": p.now} for p in pending]).scalars())
    owe: list[dict[str, Any]] = []
    for event_id, p in zip(ids, pending, strict=True):
        tx.events.append(Event(id=event_id, board=p.board, task_id=p.row.task_id,
                               run_id=p.row.run_id, kind=p.row.kind, payload=p.row.payload,
                               created_at=p.now))
        owe += [{"event_id": event_id, "board": p.board, "task_id": p.row.task_id,
                 "platform": platform, "chat_id": chat, "thread_id": thread, "status": "pending",
                 "attempts": 0, "next_attempt_at": p.now, "created_at": p.now}
                for platform, chat, thread in p.owed_to]
    if owe:
        tx.conn.execute(insert(deliveries), owe)


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


def recent(conn: Connection, board: str, *, before: int | None = None, task_id: str | None = None,
           profile: str | None = None, kinds: list[str] | None = None,
           limit: int = 50) -> list[tuple[Event, str | None]]:
    """The board's events newest first, each with its task's title: the activity feed.

    ``profile``: events of that profile's attempts, or of tasks assigned to it. Reads the
    board's event index backwards from ``before``: its cost follows ``limit``, not the log."""
    q = (select(events, tasks.c.title).join(tasks, tasks.c.id == events.c.task_id)
         .where(events.c.board == board))
    if before is not None:
        q = q.where(events.c.id < before)
    if task_id is not None:
        q = q.where(events.c.task_id == task_id)
    if kinds:
        q = q.where(events.c.kind.in_(kinds))
    if profile is not None:
        of_profile = select(runs.c.id).where(runs.c.board == board, runs.c.profile == profile)
        q = q.where(or_(tasks.c.assignee == profile, events.c.run_id.in_(of_profile)))
    rows = conn.execute(q.order_by(events.c.id.desc()).limit(limit)).all()
    return [(to_event(r), r.title) for r in rows]
