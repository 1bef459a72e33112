"""What every service function receives: the store, the settings, the clock, and who acts."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..store import Store, open_store
from ..store.transient import RetryPolicy


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``run_token`` is set for a worker process and is its proof of attempt."""

    name: str = "user"
    worker_task: str | None = None
    run_id: int | None = None
    run_token: str | None = None

    @property
    def is_worker(self) -> bool:
        return self.worker_task is not None

    @classmethod
    def from_settings(cls, settings: Settings, default: str = "user") -> Actor:
        w = settings.worker
        if w is None:
            return cls(name=default)
        return cls(
            name=w.profile or "worker",
            worker_task=w.task_id,
            run_id=w.run_id,
            run_token=w.token.get_secret_value() if w.token else None,
        )


@dataclass
class Ctx:
    store: Store
    settings: Settings
    clock: Callable[[], float] = field(default=time.time)

    def now(self) -> float:
        return self.clock()

    @property
    def retry(self) -> RetryPolicy:
        """The one policy for transient database errors, shared by every surface: the CLI runs
        a failed command again under it, the API a failed route, the MCP server a failed tool,
        the dispatcher a failed write. Safe because each of those is one transaction (or
        idempotent steps), and a COMMIT lost with its connection is looked up, never re-run
        blindly (:mod:`agentkanban.store.commit`)."""
        return retry_policy(self.settings)


    @property
    def home(self) -> Path:
        return self.settings.home

    def board_dir(self, slug: str) -> Path:
        return self.home / "boards" / slug


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry policy the settings ask for (``database_retry_seconds``); see :attr:`Ctx.retry`."""
    return RetryPolicy(deadline_seconds=settings.database_retry_seconds)


def open_ctx(settings: Settings, clock: Callable[[], float] = time.time, *,
             upgrade: bool = True) -> Ctx:
    """The services' context over the configured database. ``upgrade`` (what the CLI, ``serve``,
    the daemon and the MCP server do) first brings the schema to the newest revision; opening the
    store itself never does (``kanban db current`` opens with ``upgrade=False``)."""
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    store.commit_check_seconds = settings.database_retry_seconds
    if upgrade:
        from ..store.migrate import ensure_current

        ensure_current(store)
    return Ctx(store=store, settings=settings, clock=clock)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
