"""The ``scheduled`` column: tasks with a future start time (``scheduled_at``).

Setting a future ``scheduled_at`` (on create or edit) parks a waiting task (triage, todo, ready or
blocked) in ``scheduled``; clearing it, or the time coming, moves it to ``todo``, from where the
ordinary promotion makes it ready once its parents are done. The dispatcher promotes due tasks on
every pass (``promote_due``). A running or finished task cannot be scheduled.
"""

from __future__ import annotations

from ..domain import events as ev
from ..domain.models import Task
from ..domain.statuses import Status
from ..errors import InvalidTransition, ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import scheduling as store_sched
from ..store import tasks as store_tasks
from .base import Ctx
from .common import load, promote_tasks, transition

SCHEDULABLE = frozenset({Status.TRIAGE, Status.TODO, Status.READY, Status.BLOCKED, Status.SCHEDULED})
# The last second of the year 9999: any later "Unix time" is a millisecond one by mistake.
LATEST = 253_402_300_799


def check_time(when: float | None, now: float) -> float | None:
    if when is None:
        return None
    if not 0 < when <= LATEST:
        raise ValidationError("scheduled_at must be a Unix time in seconds, after 1970 and before the "
                              "year 10000 (not milliseconds)")
    return float(when)


def schedule(ctx: Ctx, board: str, task_id: str, when: float | None) -> Task:
    """Set (future: the task waits in ``scheduled``) or clear (``None`` or past: it is released)."""
    now = ctx.now()
    when = check_time(when, now)
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        task = load(tx.conn, board, task_id)
        schedule_in(tx, board, task, when, now)
        return load(tx.conn, board, task.id)


def schedule_in(tx: Tx, board: str, task: Task, when: float | None, now: float) -> None:
    """:func:`schedule` inside a transaction the caller holds, ``when`` already checked."""
    if task.status not in SCHEDULABLE:
        raise InvalidTransition(f"task {task.id} is {task.status.value}; only a waiting task can be "
                                "scheduled")
    if when is not None and when > now:
        if task.status is not Status.SCHEDULED:
            transition(tx, task, Status.SCHEDULED, now, {"scheduled_at": when})
        else:
            store_tasks.set_fields(tx.conn, task.id, {"scheduled_at": when, "updated_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.STATUS, now=now,
                            payload={"status": "scheduled", "scheduled_at": when})
    elif task.status is Status.SCHEDULED:
        transition(tx, task, Status.TODO, now, {"scheduled_at": None})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.STATUS, now=now,
                            payload={"status": "todo", "scheduled_at": None})
        promote_tasks(tx, board, [task.id], now)  # ready at once when its parents are done
    elif task.scheduled_at is not None:
        store_tasks.set_fields(tx.conn, task.id, {"scheduled_at": None, "updated_at": now})


def promote_due(ctx: Ctx, board: str) -> list[str]:
    """Release every scheduled task whose time has come; returns their ids."""
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        ids = store_sched.due(tx.conn, board, now)
        for tid in ids:
            task = load(tx.conn, board, tid)
            transition(tx, task, Status.TODO, now)
            store_events.append(tx, board=board, task_id=tid, kind=ev.STATUS, now=now,
                                payload={"status": "todo", "reason": "scheduled time reached",
                                         "scheduled_at": task.scheduled_at})
        promote_tasks(tx, board, ids, now)  # each released task alone, not the whole board
    return ids
