"""Due dates: when a task should be finished by. A task past its due date and not yet done or
archived is *overdue*; nothing else changes (no status moves, the dispatcher ignores it)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from typing import Any

from ..domain import events as ev
from ..domain.models import Task
from ..errors import ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import tasks as store_tasks
from .base import Ctx
from .common import load

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()
MAX_TEXT = 64
_HELP = ("use a date (2026-12-31, due at the end of that day, UTC), a time "
         "(2026-12-31T17:00, UTC unless it says +02:00), a Unix time in seconds, or 'none'")


def parse_due(value: Any) -> float | None:
    """A due date from any surface: a Unix time in seconds, an ISO date or date-time, or
    ``None``/``""``/``"none"`` for no due date. Refused with the same message everywhere."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"bad due date {value!r}: {_HELP}")
    if isinstance(value, (int, float)):
        return _checked(float(value), value)
    if not isinstance(value, str):
        raise ValidationError(f"bad due date {value!r}: {_HELP}")
    text = value.strip()
    if "\x00" in text:
        raise ValidationError("due date contains a NUL character")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"due date is too long (at most {MAX_TEXT} characters): {_HELP}")
    if text.lower() in ("", "none", "null", "clear"):
        return None
    try:
        return _checked(float(text), value)
    except ValueError:
        pass
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            end = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
            return _checked(end.timestamp(), value)
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise ValidationError(f"bad due date {value!r}: {_HELP}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _checked(when.timestamp(), value)


def _checked(ts: float, raw: Any) -> float:
    if not math.isfinite(ts) or not EARLIEST <= ts < LATEST:
        raise ValidationError(f"bad due date {raw!r}: it must fall between the years 2000 and 9999")
    return ts


def set_in(tx: Tx, board: str, task: Task, due: float | None, now: float) -> bool:
    """Write ``due`` (already parsed) as the task's due date; an event when it changed."""
    if task.due_at == due:
        return False
    store_tasks.set_fields(tx.conn, task.id, {"due_at": due, "updated_at": now})
    store_events.append(tx, board=board, task_id=task.id, kind=ev.DUE_CHANGED, now=now,
                        payload={"due_at": None if due is None else int(due),
                                 "was": None if task.due_at is None else int(task.due_at)})
    return True


def set_due(ctx: Ctx, board: str, task_id: str, value: Any) -> Task:
    due = parse_due(value)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        set_in(tx, board, task, due, now)
        return load(tx.conn, board, task.id)

