"""The dispatcher: ready tasks become worker processes; their attempts are watched to the end.

:class:`Dispatcher` is imported on first use, so the store-free helpers of this package
(:mod:`.procs`, :mod:`.placeholders`) can be imported by ``kanban runner`` without the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dispatcher import Dispatcher, DispatchResult

__all__ = ["DispatchResult", "Dispatcher"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import dispatcher

        return getattr(dispatcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
