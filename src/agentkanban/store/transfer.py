"""Bulk reads and writes for export/import and the importers: whole tables, in a stable order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from .schema import boards, comments, events, notify_subs, runs, task_links, tasks

TABLES: dict[str, Table] = {"board": boards, "task": tasks, "link": task_links, "comment": comments,
                            "run": runs, "event": events, "subscription": notify_subs}
ORDER: dict[str, tuple[str, ...]] = {
    "board": ("slug",), "task": ("board", "created_at", "id"), "link": ("parent_id", "child_id"),
    "comment": ("task_id", "id"), "run": ("id",), "event": ("id",),
    "subscription": ("task_id", "platform", "chat_id", "thread_id"),
}


def stream(conn: Connection, kind: str, boards_in: Sequence[str], chunk: int = 2000
           ) -> Iterator[dict[str, Any]]:
    """Rows of ``kind`` belonging to ``boards_in``, in :data:`ORDER`, a chunk at a time."""
    table = TABLES[kind]
    q = select(table).order_by(*(table.c[c] for c in ORDER[kind]))
    if kind in ("board",):
        q = q.where(table.c.slug.in_(boards_in))
    elif kind in ("task", "run", "event"):
        q = q.where(table.c.board.in_(boards_in))
    else:
        col = table.c.parent_id if kind == "link" else table.c.task_id
        q = q.where(col.in_(select(tasks.c.id).where(tasks.c.board.in_(boards_in))))
    result = conn.execution_options(yield_per=chunk).execute(q)
    for row in result:
        yield dict(row._mapping)


def board_slugs(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(boards.c.slug).order_by(boards.c.slug))]


def existing_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(ids), 2000):
        part = list(ids[i:i + 2000])
        out |= {r[0] for r in conn.execute(select(tasks.c.id).where(tasks.c.id.in_(part)))}
    return out


def insert_many(conn: Connection, kind: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(TABLES[kind]), rows)


def insert_returning_id(conn: Connection, kind: str, row: dict[str, Any]) -> int:
    table = TABLES[kind]
    return int(conn.execute(insert(table).returning(table.c.id), row).scalar_one())


def keys_with_prefix(conn: Connection, board: str, prefix: str) -> dict[str, str]:
    """idempotency key -> task id for keys starting with ``prefix`` (importers re-run)."""
    q = select(tasks.c.idempotency_key, tasks.c.id).where(
        tasks.c.board == board, tasks.c.idempotency_key.like(prefix.replace("%", r"\%") + "%",
                                                             escape="\\"))
    return {k: i for k, i in conn.execute(q)}


def board_is_empty(conn: Connection, slug: str) -> bool:
    return conn.execute(select(tasks.c.id).where(tasks.c.board == slug).limit(1)).first() is None


def set_board(conn: Connection, slug: str, values: dict[str, Any]) -> None:
    conn.execute(update(boards).where(boards.c.slug == slug).values(**values))
