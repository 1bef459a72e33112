"""Engines, transactions and the after-commit hook.

One :class:`Store` per database URL per process. Every write goes through :meth:`Store.write`,
which opens one transaction, collects the events appended in it, and hands them to the
registered listeners only after the commit succeeded (so nobody hears about a change that was
rolled back).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc

from ..domain.models import Event
from ..errors import Conflict, StorageError, ValidationError
from . import commit, schema, textguard, transient

Listener = Callable[[list[Event]], None]

# Long enough that a writer queued behind a busy dispatcher or a checkpoint waits instead of
# failing with "database is locked"; writes here are short, so a real wait is milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so "begin" below decides.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL: readers never block the writer and the writer never blocks readers.
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode is durable against a crash or kill -9 of any process; only an OS
        # crash or power cut can lose the last commits (never corrupt the file). FULL costs ~10x
        # per commit on this class of disk; it is a setting for those who want it.
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Links, comments, runs and events go with their task; boards take their tasks along.
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # upgrades from read to write can fail with SQLITE_BUSY regardless of the busy timeout.
        if conn.get_execution_options().get("kanban_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Tx:
    """One write transaction: the connection, the events queued in it (written just before the
    commit, see :mod:`.events`), and what to publish after the commit."""

    conn: Connection
    events: list[Event] = field(default_factory=list)
    pending: list[Any] = field(default_factory=list)
    before_commit: list[Callable[[Tx], None]] = field(default_factory=list)
    xid: str | None = None  # PostgreSQL's id of the transaction, when a statement already read it


class Store:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._listeners: list[Listener] = []
        self.schema_current = False  # set once this process saw the schema at the newest revision
        # How long to wait for the database to say whether a COMMIT lost with its connection
        # committed (see .commit); the services set it from database_retry_seconds.
        self.commit_check_seconds = transient.CONNECT_RETRY_SECONDS
        self._lock = threading.Lock()

    # -- cheap change detection -----------------------------------------------------------------
    def change_marker(self) -> tuple[int, ...] | None:
        """A value that changes when any process commits to this database, read without a query.

        For a SQLite file: the size, mtime and inode of the database and its WAL (every commit
        appends to the WAL). None for servers (PostgreSQL), where callers poll with a query. A
        marker can only say "maybe changed"; callers still query now and then (mtime is coarse).
        """
        if not self.is_sqlite:
            return None
        path = self.engine.url.database
        if not path or path == ":memory:":
            return None
        out: list[int] = []
        for name in (path, path + "-wal"):
            try:
                st = os.stat(name)
            except OSError:
                out += [0, 0, 0]
            else:
                out += [st.st_mtime_ns, st.st_size, st.st_ino]
        return tuple(out)

    # -- listeners -------------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Tx]:
        try:
            with transient.connect(self.engine) as conn, conn.begin() as trans:
                tx = Tx(conn)
                yield tx
                for hook in tx.before_commit:
                    hook(tx)
                commit.commit(self.engine, conn, trans, check_seconds=self.commit_check_seconds,
                              xid=tx.xid)
        except exc.OperationalError as err:
            raise StorageError(_describe(err)) from err
        except exc.IntegrityError as err:
            raise Conflict(f"the change conflicts with a concurrent one and was not made; retry "
                           f"({_first_line(err)})") from err
        except exc.DataError as err:  # e.g. a NUL character in text, which PostgreSQL refuses
            raise ValidationError(f"the database refused a value: {_first_line(err)}") from err
        if tx.events:
            with self._lock:
                listeners = list(self._listeners)
            for fn in listeners:
                fn(tx.events)

    @contextmanager
    def read(self, *, wait: bool = True) -> Iterator[Connection]:
        """A read-only transaction. ``wait=False``: fail at once when the database is unreachable
        (health checks), instead of waiting for it to come back."""
        try:
            with transient.connect(self.engine, deadline_seconds=10.0 if wait else 0.0) as conn:
                conn = conn.execution_options(kanban_readonly=True)
                with conn.begin():
                    yield conn
        except exc.OperationalError as err:
            raise StorageError(_describe(err)) from err
        except exc.DataError as err:
            raise ValidationError(f"the database refused a value: {_first_line(err)}") from err

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(err: exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def _describe(err: exc.OperationalError) -> str:
    text = _first_line(err)
    if "full" in text or "No space left" in text:
        return "the database disk is full; free space and retry (nothing was changed)"
    return f"database error: {text} (nothing was changed)"


def _create_private(path: Path) -> None:
    """Create the database file (and its folder) readable by its owner only. SQLite gives the
    -wal and -shm files the database file's permissions, so they are private too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        # An older file readable by others (made by another tool, or copied) is tightened.
        for name in (str(path), f"{path}-wal", f"{path}-shm"):
            try:
                st = os.stat(name)
                if st.st_uid == os.geteuid() and st.st_mode & 0o077:
                    os.chmod(name, st.st_mode & 0o700)
            except OSError:
                pass


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str, *, synchronous: str = "NORMAL") -> Store:
    """Return the process-wide :class:`Store` for ``url``. Opening never changes the database:
    bringing its schema up to date is the caller's explicit step (:func:`.migrate.ensure_current`),
    so ``kanban db current`` can still see an old or empty database as it is."""
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is not None:
            return store
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                _create_private(Path(path))
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            _configure_sqlite(engine, synchronous)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        textguard.install(engine)
        schema.use_dialect(engine.dialect.name)
        store = Store(url, engine)
        _STORES[url] = store
        return store


def close_all() -> None:
    """Dispose every engine (tests, and forked processes that must not share sockets)."""
    with _STORES_LOCK:
        for store in _STORES.values():
            store.dispose()
        _STORES.clear()
