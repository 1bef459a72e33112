"""Small named values shared between processes."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from . import dialect
from .schema import kv

_GET = select(kv.c.value, kv.c.updated_at).where(kv.c.key == bindparam("b_key"))


def get(conn: Connection, key: str) -> tuple[str, float] | None:
    row = conn.execute(_GET, {"b_key": key}).first()
    return (row[0], row[1]) if row else None


def put(conn: Connection, key: str, value: str, now: float) -> None:
    dialect.upsert(conn, kv, {"key": key, "value": value, "updated_at": now}, ["key"])
