"""Housekeeping: migrations on demand and garbage collection."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..domain.statuses import Status
from ..store import dialect, migrate
from ..store import events as store_events
from ..store import tasks as store_tasks
from ..store.engine import open_store
from . import boards
from .base import Ctx

DAY = 86400


def upgrade(settings: Settings) -> str:
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    migrate.upgrade(store)
    store.schema_current = True
    with store.write() as tx:
        dialect.refresh_stats(tx.conn)
    return migrate.current_revision(store) or ""


def refresh_stats(ctx: Ctx) -> int:
    """Refresh the query planner's statistics; returns the number of tasks they were taken at."""
    with ctx.store.write() as tx:
        dialect.refresh_stats(tx.conn)
        return store_tasks.count_all(tx.conn)


def refresh_stats_if_stale(ctx: Ctx, taken_at: int | None) -> int:
    """Refresh the statistics when there are none yet (``taken_at`` None) or the number of tasks
    has doubled or halved since they were taken; returns the count they now reflect."""
    with ctx.store.read() as conn:
        n = store_tasks.count_all(conn)
    if taken_at is not None and taken_at // 2 <= n <= max(2 * taken_at, 100):
        return taken_at
    return refresh_stats(ctx)


def revision(ctx: Ctx) -> str | None:
    return migrate.current_revision(ctx.store)


def schema_state(settings: Settings) -> tuple[str | None, str]:
    """The database's schema revision as it is (None: empty) and the newest this code knows.
    Changes nothing: an old or empty database is reported, not upgraded."""
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    return migrate.current_revision(store), migrate.HEAD


def _no_live_workers(task_ids: list[str]) -> set[str]:
    return set()


def gc(ctx: Ctx, board: str, *, event_days: int = 30, log_days: int = 30,
       live_workers: Callable[[list[str]], set[str]] = _no_live_workers) -> dict[str, Any]:
    """Delete old events of finished tasks, old logs, and scratch folders of archived tasks.

    Only folders directly inside this board's managed workspaces folder are ever removed, and
    only under the checks the dispatcher's own sweep applies: a folder stays while a child of its
    task is not yet done or archived (it may still read its parent's work), or while a worker
    process of the task is alive (``live_workers``: which of the given tasks still have one; the
    process inspection belongs to the dispatch layer, which ``kanban gc`` passes in).
    """
    now = ctx.now()
    with ctx.store.write() as tx:
        n_events = store_events.delete_older_than(
            tx.conn, board, now - event_days * DAY, (Status.DONE.value, Status.ARCHIVED.value))
    with ctx.store.read() as conn:
        archived = store_tasks.list_tasks(conn, board, statuses=[Status.ARCHIVED.value])
    root = boards.workspaces_dir(ctx, board)
    # A symlink is not a folder the dispatcher made: never followed, never counted.
    candidates = [t.id for t in archived if t.workspace_kind == "scratch"
                  and not (root / t.id).is_symlink() and (root / t.id).is_dir()
                  and (root / t.id).parent == root]
    if candidates:
        with ctx.store.read() as conn:
            needed = store_tasks.open_children(conn, candidates)
        needed |= live_workers([c for c in candidates if c not in needed])
        candidates = [c for c in candidates if c not in needed]
    n_ws = 0
    for tid in candidates:
        shutil.rmtree(root / tid, ignore_errors=True)
        n_ws += not (root / tid).exists()  # only what is really gone
    n_logs = 0
    logs = boards.logs_dir(ctx, board)
    if logs.is_dir():
        for f in logs.iterdir():
            if f.is_file() and f.stat().st_mtime < now - log_days * DAY:
                f.unlink(missing_ok=True)
                n_logs += 1
    refresh_stats(ctx)
    return {"events_deleted": n_events, "workspaces_removed": n_ws, "logs_removed": n_logs}
