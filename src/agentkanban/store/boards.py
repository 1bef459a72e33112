"""Board rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from ..domain.models import Board
from .rows import to_board
from .schema import boards

_BY_SLUG = select(boards).where(boards.c.slug == bindparam("b_slug"))  # every API request runs it


def get(conn: Connection, slug: str) -> Board | None:
    row = conn.execute(_BY_SLUG, {"b_slug": slug}).first()
    return to_board(row) if row else None


def all_boards(conn: Connection, include_archived: bool = False) -> list[Board]:
    q = select(boards)
    if not include_archived:
        q = q.where(boards.c.archived_at.is_(None))
    return [to_board(r) for r in conn.execute(q)]


def insert_board(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(boards).values(**values))


def set_fields(conn: Connection, slug: str, values: dict[str, Any]) -> None:
    conn.execute(update(boards).where(boards.c.slug == slug).values(**values))


def delete_board(conn: Connection, slug: str) -> None:
    conn.execute(delete(boards).where(boards.c.slug == slug))
