"""The board's extra filters as SQL conditions on ``tasks``: labels, due dates, needs attention.

What each filter means is decided in :mod:`agentkanban.services.filters`; this module only
spells it in SQL, once, for the task list and the dashboard's paged board alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_

from ..domain.statuses import Status
from .labels import has_label
from .schema import tasks

_FINISHED = [Status.DONE.value, Status.ARCHIVED.value]


@dataclass(frozen=True)
class Filters:
    labels: tuple[str, ...] = ()  # every one of them
    due: str | None = None  # overdue | has | none | before
    due_before: float | None = None  # with due="before": due at or before this time
    attention: bool = False
    now: float = 0.0

    @property
    def empty(self) -> bool:
        return not (self.labels or self.due or self.attention)


def overdue(now: float) -> Any:
    return and_(tasks.c.due_at.is_not(None), tasks.c.due_at < now, tasks.c.status.not_in(_FINISHED))


def conditions(f: Filters | None) -> list[Any]:
    if f is None or f.empty:
        return []
    out: list[Any] = [has_label(name) for name in f.labels]
    if f.due == "overdue":
        out.append(overdue(f.now))
    elif f.due == "has":
        out.append(tasks.c.due_at.is_not(None))
    elif f.due == "none":
        out.append(tasks.c.due_at.is_(None))
    elif f.due == "before" and f.due_before is not None:
        out.append(and_(tasks.c.due_at.is_not(None), tasks.c.due_at <= f.due_before))
    if f.attention:
        # Blocked; failing (its last attempts failed); ready with nobody to run it; overdue.
        out.append(or_(tasks.c.status == Status.BLOCKED.value,
                       and_(tasks.c.consecutive_failures > 0, tasks.c.status.not_in(_FINISHED)),
                       and_(tasks.c.status == Status.READY.value, tasks.c.assignee.is_(None)),
                       overdue(f.now)))
    return out
