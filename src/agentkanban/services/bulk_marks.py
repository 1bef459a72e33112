"""The labels and due-date part of a bulk change (``POST /tasks/bulk``), in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..store import Tx
from ..store import tasks as store_tasks
from . import due, labels

if TYPE_CHECKING:
    from .bulk import Outcome


@dataclass(frozen=True)
class Marks:
    """Labels and the due date, after the status, assignee and priority: checked once up front
    (a bad label refuses the whole request), applied to every id the first parts did not refuse."""

    add: list[str]
    remove: list[str]
    due: float | None
    set_due: bool

    @classmethod
    def of(cls, add: Any, remove: Any, due_at: Any, set_due: bool) -> Marks:
        return cls(labels.clean_labels(add), labels.clean_labels(remove),
                   due.parse_due(due_at) if set_due else None, set_due)

    @property
    def any(self) -> bool:
        return bool(self.add or self.remove or self.set_due)

    def apply(self, tx: Tx, board: str, out: list[Outcome], now: float) -> list[Outcome]:
        ok = [o.id for o in out if o.ok]
        found = store_tasks.get_many(tx.conn, board, ok)
        refused: dict[str, str] = {}
        for tid in ok:
            task = found[tid]
            if self.add or self.remove:
                try:
                    new = labels.merged(task, self.add, self.remove)
                except ValidationError as err:
                    refused[tid] = err.message
                    continue
                labels.change_in(tx, board, task, new, now)
            if self.set_due:
                due.set_in(tx, board, store_tasks.get(tx.conn, tid, board) or task, self.due, now)
        from .bulk import Outcome as _Outcome

        return [_Outcome(o.id, refused[o.id]) if o.id in refused else o for o in out]
