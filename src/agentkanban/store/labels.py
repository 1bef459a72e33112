"""Label colours chosen per board, and the labels in use on a board's tasks."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, select

from .schema import label_colors, tasks


def counts(conn: Connection, board: str) -> dict[str, int]:
    """Label name -> number of the board's non-archived tasks that carry it."""
    q = select(tasks.c.labels).where(tasks.c.board == board, tasks.c.labels.is_not(None),
                                     tasks.c.status != "archived")
    out: dict[str, int] = {}
    for (raw,) in conn.execute(q):
        for name in json.loads(raw) if raw else ():
            out[name] = out.get(name, 0) + 1
    return out


def colors(conn: Connection, board: str) -> dict[str, str]:
    q = select(label_colors.c.name, label_colors.c.color).where(label_colors.c.board == board)
    return {n: c for n, c in conn.execute(q)}


def set_color(conn: Connection, board: str, name: str, color: str | None) -> None:
    """Choose (or, with None, forget) a label's colour on a board."""
    conn.execute(delete(label_colors).where(label_colors.c.board == board,
                                            label_colors.c.name == name))
    if color:
        conn.execute(label_colors.insert().values(board=board, name=name, color=color))


def has_label(name: str) -> Any:
    """A condition on ``tasks``: the task carries label ``name`` (its JSON array holds the
    JSON-encoded name, quotes included, so ``bug`` never matches ``bugfix``)."""
    needle = json.dumps(name)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return tasks.c.labels.like("%" + escaped + "%", escape="\\")


__all__ = ["colors", "counts", "has_label", "set_color"]
