"""Small named values shared between processes."""

from __future__ import annotations

from sqlalchemy import Connection, select

from . import dialect
from .schema import kv


def get(conn: Connection, key: str) -> tuple[str, float] | None:
    row = conn.execute(select(kv.c.value, kv.c.updated_at).where(kv.c.key == key)).first()
    return (row[0], row[1]) if row else None


def put(conn: Connection, key: str, value: str, now: float) -> None:
    dialect.upsert(conn, kv, {"key": key, "value": value, "updated_at": now}, ["key"])
