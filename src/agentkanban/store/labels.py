"""Label colours chosen per board, and the labels in use on a board's tasks."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, select

from . import tallies
from .schema import label_colors, tasks


def counts(conn: Connection, board: str) -> dict[str, int]:
    """Label name -> number of the board's non-archived tasks that carry it (the board's tallies)."""
    return tallies.labels(conn, board)


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
