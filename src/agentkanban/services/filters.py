"""The board's filters beyond status, assignee and tenant: labels, due dates and "needs
attention", checked here once for the task list, the dashboard's board, the CLI and the API.

A task *needs attention* when a person should look at it: it is blocked; its last attempts
failed (and it is not finished); it is ready with no profile assigned to run it; or it is past
its due date and not finished.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..store.filters import Filters
from .base import Ctx
from .due import parse_due
from .labels import clean_label

DUE_FILTERS = ("overdue", "has", "none")


def where(ctx: Ctx, *, labels: Any = None, due: str | None = None,
          attention: bool = False) -> Filters | None:
    """``labels``: names (a comma-separated string is split), all must be on the task.
    ``due``: ``overdue``, ``has`` (any due date), ``none`` (no due date), or a date/time (due at
    or before it, see :func:`.due.parse_due`)."""
    names: list[str] = []
    for item in [labels] if isinstance(labels, str) else (labels or []):
        names.extend(clean_label(part) for part in str(item).split(",") if part.strip())
    mode, before = None, None
    if due is not None and str(due).strip():
        d = str(due).strip().lower()
        if d in DUE_FILTERS:
            mode = d
        else:
            try:
                before = parse_due(due)
            except ValidationError as err:
                raise ValidationError(f"{err.message}; or filter with {', '.join(DUE_FILTERS)}") from None
            mode = "before"
    f = Filters(labels=tuple(dict.fromkeys(names)), due=mode, due_before=before,
                attention=bool(attention), now=ctx.now())
    return None if f.empty else f


__all__ = ["DUE_FILTERS", "where"]
