"""Notification subscriptions and the deliveries they are owed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from ..domain.models import Delivery, Subscription
from . import dialect
from .rows import to_delivery, to_sub
from .schema import deliveries, notify_subs, tasks


def add(conn: Connection, values: dict[str, Any]) -> bool:
    return dialect.insert_ignore(conn, notify_subs, values,
                                 ["task_id", "platform", "chat_id", "thread_id"]) == 1


def remove(conn: Connection, task_id: str, platform: str, chat_id: str, thread_id: str) -> bool:
    res = conn.execute(delete(notify_subs).where(
        notify_subs.c.task_id == task_id, notify_subs.c.platform == platform,
        notify_subs.c.chat_id == chat_id, notify_subs.c.thread_id == thread_id))
    return (res.rowcount or 0) > 0


def remove_all_for_task(conn: Connection, task_id: str) -> int:
    return conn.execute(delete(notify_subs).where(notify_subs.c.task_id == task_id)).rowcount or 0


def remove_all_for_tasks(conn: Connection, task_ids: list[str]) -> None:
    for i in range(0, len(task_ids), 2000):
        conn.execute(delete(notify_subs).where(notify_subs.c.task_id.in_(task_ids[i:i + 2000])))


def for_task(conn: Connection, task_id: str | None = None) -> list[Subscription]:
    q = select(notify_subs)
    if task_id is not None:
        q = q.where(notify_subs.c.task_id == task_id)
    q = q.order_by(notify_subs.c.task_id, notify_subs.c.platform, notify_subs.c.chat_id)
    return [to_sub(r) for r in conn.execute(q)]


def for_board(conn: Connection, board: str) -> list[Subscription]:
    q = (select(notify_subs).join(tasks, tasks.c.id == notify_subs.c.task_id)
         .where(tasks.c.board == board)
         .order_by(notify_subs.c.task_id, notify_subs.c.platform, notify_subs.c.chat_id))
    return [to_sub(r) for r in conn.execute(q)]


def deliveries_for_task(conn: Connection, task_id: str | None = None) -> list[Delivery]:
    q = select(deliveries)
    if task_id is not None:
        q = q.where(deliveries.c.task_id == task_id)
    return [to_delivery(r) for r in conn.execute(q.order_by(deliveries.c.id))]
