"""Reading a due date: whether a task is overdue, and the date as people read it (the rules
that parse and store one are in ``services.due``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .models import Task
from .statuses import Status

# Finished work is never overdue.
FINISHED = frozenset({Status.DONE, Status.ARCHIVED})


def is_overdue(task: Task | dict[str, Any], now: float) -> bool:
    due = task["due_at"] if isinstance(task, dict) else task.due_at
    status = task["status"] if isinstance(task, dict) else task.status.value
    return due is not None and due < now and status not in {s.value for s in FINISHED}


def describe(ts: float | None) -> str:
    """A due date as people read it: the day when it is the end of a day (UTC), else the minute."""
    if ts is None:
        return ""
    when = datetime.fromtimestamp(ts, UTC)
    if (when.hour, when.minute, when.second) == (23, 59, 59):
        return when.date().isoformat()
    return when.strftime("%Y-%m-%d %H:%M UTC")
