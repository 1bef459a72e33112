"""The one exception family of the product.

Nothing here knows about HTTP or exit codes: ``web/app.py`` maps these to status codes and
``cli/__init__.py`` maps them to exit codes, each in one place.
"""

from __future__ import annotations


class KanbanError(Exception):
    """Base of every error the product raises on purpose. ``str(err)`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(KanbanError):
    """A task, board, run or other named thing does not exist (in this scope)."""


class ValidationError(KanbanError):
    """The input is malformed: empty title, bad slug, bad JSON, relative path..."""


class UnknownCards(ValidationError):
    """A completion names created cards (follow-up tasks) that do not exist on the board."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


class TooLarge(ValidationError):
    """A body over a size limit (a runner's log chunk)."""


class InvalidText(ValidationError):
    """Text that is not valid Unicode (an unpaired surrogate, undecodable bytes) or holds a NUL."""


class Conflict(KanbanError):
    """The input is well formed but the current state refuses it."""


class InvalidTransition(Conflict):
    """A status change that the transition table or a guard refuses."""


class Forbidden(KanbanError):
    """The caller may not do this: a worker acting on another task, a stale run token."""


class Unauthorized(KanbanError):
    """The request carries no credentials, or ones that prove nothing (a wrong or ended run token)."""


class SpawnError(KanbanError):
    """A worker process could not be started."""


class NotifyError(KanbanError):
    """A notification could not be delivered."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class StorageError(KanbanError):
    """The database refused or failed a write (disk full, unreachable server, corrupt file)."""


class CommitOutcomeUnknown(StorageError):
    """The connection was lost during COMMIT and the database could not be asked afterwards
    whether the transaction committed: the change may or may not have been made. Never retried
    blindly (that could make it twice); the caller looks before trying again."""
