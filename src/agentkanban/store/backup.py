"""Online copies of a SQLite database with SQLite's backup API, and checks of a copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .engine import Store


def sqlite_path(store: Store) -> Path | None:
    if not store.is_sqlite:
        return None
    db = store.engine.url.database
    return Path(db) if db and db != ":memory:" else None


def copy_online(store: Store, target: Path) -> None:
    """A consistent copy while writers carry on: one backup step copies every page inside one
    read snapshot. In WAL mode that snapshot does not block writers, and one step never restarts
    (copying in several steps would restart whenever a write lands between them, forever under a
    steady stream of writes)."""
    with store.engine.connect() as conn:
        source = conn.connection.driver_connection
        dest = sqlite3.connect(target)
        try:
            source.backup(dest, pages=-1)  # type: ignore[union-attr]
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()


def copy_file(source: Path, target: Path) -> None:
    """Restore: copy a backup file into place through the backup API (never a partial file)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


def describe(path: Path) -> tuple[str | None, list[str]]:
    """(schema revision or None, integrity problems) of a SQLite file; ValueError if not SQLite."""
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise ValueError("not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            rev = None
        return (rev[0] if rev else None), problems
    finally:
        conn.close()
