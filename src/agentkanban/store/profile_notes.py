"""Profile descriptions (what an orchestrator reads to route work)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from . import dialect
from .schema import profile_notes as p


def all_notes(conn: Connection) -> dict[str, tuple[str | None, bool]]:
    """``name -> (description, written by the orchestrator)``."""
    return {r.name: (r.description, bool(r.description_auto))
            for r in conn.execute(select(p.c.name, p.c.description, p.c.description_auto))}


def put(conn: Connection, name: str, description: str | None, auto: bool, now: float) -> None:
    dialect.upsert(conn, p, {"name": name, "description": description,
                             "description_auto": "1" if auto else None, "updated_at": now}, ["name"])
