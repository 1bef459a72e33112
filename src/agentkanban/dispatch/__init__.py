"""The dispatcher: ready tasks become worker processes; their attempts are watched to the end."""

from .dispatcher import Dispatcher, DispatchResult

__all__ = ["DispatchResult", "Dispatcher"]
