"""Which database errors are worth one more try, and the bounded retry loop for them.

A PostgreSQL restart, a failover, a dropped connection, a serialization failure or a briefly
locked SQLite file fail a transaction that would succeed a second later. Every write here is one
transaction that either committed or changed nothing, so a caller whose transaction failed this
way can run it again; callers whose work is not a single transaction retry the smallest
idempotent step instead.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, exc

from ..errors import CommitOutcomeUnknown, StorageError

T = TypeVar("T")

# SQLSTATE classes and codes: connection exceptions, serialization failure, deadlock, shutdown,
# "the database system is starting up", too many connections.
_TRANSIENT_STATES = ("08", "40001", "40P01", "57P01", "57P02", "57P03", "53300")
_TRANSIENT_WORDS = (
    "the database system is starting up", "the database system is shutting down",
    "server closed the connection", "connection refused", "terminating connection",
    "could not connect", "connection is closed", "connection timed out", "database is locked",
    "consistent recovery state", "no connection to the server", "connection failed",
)


def is_transient(err: BaseException) -> bool:
    """True for a database error that a retry of the same transaction can get past."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CommitOutcomeUnknown):
            return False  # running it again could make the change twice
        if isinstance(current, exc.DBAPIError):
            if current.connection_invalidated:
                return True
            state = getattr(current.orig, "sqlstate", None) or ""
            if state.startswith(_TRANSIENT_STATES):
                return True
        if isinstance(current, (exc.DBAPIError, StorageError, OSError)):
            text = str(current).lower()
            if any(w in text for w in _TRANSIENT_WORDS):
                return True
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How a transaction that failed for a transient reason is tried again: capped exponential
    backoff with jitter, for at most ``deadline_seconds``. One object, built from the settings
    (``database_retry_seconds``), used by every surface: the CLI, the API routes, the MCP tools
    and the dispatcher's writes."""

    deadline_seconds: float = 60.0
    first_delay: float = 0.2
    max_delay: float = 5.0

    def _delays(self, clock: Callable[[], float]) -> Iterator[float]:
        """The pauses between tries; stops when the next one would pass the deadline."""
        give_up = clock() + self.deadline_seconds
        wait = self.first_delay
        while clock() + wait <= give_up:
            yield wait * (0.5 + random.random() / 2)
            wait = min(self.max_delay, wait * 2)

    def run(self, fn: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic) -> T:
        """``fn()``, run again after transient database errors; then (or on any other error)
        it raises."""
        delays = self._delays(clock)
        while True:
            try:
                return fn()
            except Exception as err:
                if not is_transient(err):
                    raise
                pause = next(delays, None)
                if pause is None:
                    raise
            sleep(pause)

    async def run_async(self, fn: Callable[[], Awaitable[T]]) -> T:
        """:meth:`run` for a coroutine (an API route): the pauses do not hold the event loop."""
        delays = self._delays(time.monotonic)
        while True:
            try:
                return await fn()
            except Exception as err:
                if not is_transient(err):
                    raise
                pause = next(delays, None)
                if pause is None:
                    raise
            await asyncio.sleep(pause)


def retrying(fn: Callable[[], T], *, deadline_seconds: float = 60.0, first_delay: float = 0.2,
             max_delay: float = 5.0, sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> T:
    """``fn()`` under a :class:`RetryPolicy` with these bounds."""
    return RetryPolicy(deadline_seconds, first_delay, max_delay).run(fn, sleep=sleep, clock=clock)


# How long a service waits for the database to take a connection again (a restart takes seconds);
# past that the caller gets a StorageError (503 with Retry-After from the API).
CONNECT_RETRY_SECONDS = 10.0


def connect(engine: Engine, *, deadline_seconds: float = CONNECT_RETRY_SECONDS) -> Connection:
    """``engine.connect()``, retried while the database is unreachable for a transient reason.

    Safe for every caller: nothing has run on a connection that was never made. (A transaction
    that fails half-way is not retried here; see :func:`retrying`.)"""
    return retrying(engine.connect, deadline_seconds=deadline_seconds, first_delay=0.1,
                    max_delay=2.0)
