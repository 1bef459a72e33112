"""The few places where SQLite and PostgreSQL differ. Nothing else branches on the backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

# Any constant works; it only has to be the same in every process that writes the event log.
_EVENT_LOG_LOCK = 0x6B616E62  # "kanb"


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def locks_rows(conn: Connection) -> bool:
    """Whether reads in this transaction should lock the rows they read (``FOR UPDATE``).

    SQLite serialises writers for the whole transaction (``BEGIN IMMEDIATE``), so nothing is
    needed there. PostgreSQL runs writers side by side: a write transaction locks the task rows it
    decides on, so two writers of the same task queue up instead of deciding on the same state.
    """
    return conn.dialect.name == "postgresql" and not conn.get_execution_options().get("kanban_readonly")


def lock_event_order(conn: Connection) -> str | None:
    """Called just before a transaction writes its events, as the last thing before its commit.

    On PostgreSQL event ids come from a sequence and are handed out before commit, so two
    concurrent writers could commit ids out of order and a reader following the cursor would skip
    the later-committed, lower id. Every transaction takes this one advisory lock just before it
    draws its event ids and keeps it to its commit, so id order equals commit order, while the
    rest of each transaction runs alongside the others. SQLite serialises writers already.

    Returns the transaction's id as PostgreSQL knows it (None on SQLite, or when nothing was
    written yet), read in the same statement so the COMMIT that follows needs no query of its own
    to be looked up if its answer is lost (see :mod:`.commit`).
    """
    if conn.dialect.name == "postgresql":
        row = conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_EVENT_LOG_LOCK}), "
                                   "pg_current_xact_id_if_assigned()::text").first()
        return row[1] if row is not None else None
    return None


def lock_key(conn: Connection, *parts: str) -> None:
    """Serialise, on PostgreSQL, the transactions that decide on the same thing (a cap, a board's
    links, an idempotency key), until the holder commits. A no-op on SQLite, whose writers are
    already one at a time. Always take several keys in the same order (board before profile)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended(%(k)s, 0))",
                             {"k": "kanban:" + ":".join(parts)})


def refresh_stats(conn: Connection) -> None:
    """Give the query planner fresh table statistics.

    Without them SQLite guesses that ``board = ?`` matches a handful of rows and, for example,
    joins links to tasks from the wrong side (3x slower on a 10,000-task board). A full
    ``ANALYZE`` takes ~8 ms at 10,000 tasks. PostgreSQL's autovacuum keeps its own statistics.
    """
    if is_sqlite(conn):
        conn.exec_driver_sql("ANALYZE")


def _insert_mod(conn: Connection) -> Any:
    # Imported here: the PostgreSQL dialect package costs ~0.1 s to import, paid only when used.
    if is_sqlite(conn):
        from sqlalchemy.dialects import sqlite

        return sqlite
    from sqlalchemy.dialects import postgresql

    return postgresql


# Built once per (backend, table, columns): building one costs more than running it.
_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _cached(conn: Connection, kind: str, table: Table, keys: list[str], columns: list[str]) -> Any:
    key = (conn.dialect.name, kind, table.name, *keys, "|", *columns)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        base = _insert_mod(conn).insert(table)
        if kind == "ignore":
            # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
            stmt = base.on_conflict_do_nothing(index_elements=keys).returning(
                *(table.c[k] for k in keys))
        else:
            stmt = base.on_conflict_do_update(
                index_elements=keys,
                set_={c: base.excluded[c] for c in columns if c not in keys})
        _STATEMENTS[key] = stmt
    return stmt


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> int:
    """INSERT that does nothing when a row with the same ``keys`` exists; returns rows inserted."""
    stmt = _cached(conn, "ignore", table, keys, sorted(values))
    return len(conn.execute(stmt, values).all())


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    conn.execute(_cached(conn, "upsert", table, keys, sorted(values)), values)
