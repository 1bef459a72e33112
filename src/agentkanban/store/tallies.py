"""Counts kept by triggers beside the tasks (migration ``0006_tallies``): what a board's columns
and labels hold, read in a few rows whatever the board's size."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import Connection, delete, func, insert, select

from . import dialect
from .schema import tallies, tasks


def _sums(conn: Connection, board: str, kind: str) -> dict[str, int]:
    q = (select(tallies.c.name, func.sum(tallies.c.n)).where(tallies.c.board == board,
                                                             tallies.c.kind == kind)
         .group_by(tallies.c.name))
    return {name: int(n) for name, n in conn.execute(q) if n}


def statuses(conn: Connection, board: str) -> dict[str, int]:
    """Status -> number of the board's tasks in it (archived included); absent when none."""
    return _sums(conn, board, "status")


def labels(conn: Connection, board: str) -> dict[str, int]:
    """Label -> number of the board's non-archived tasks that carry it; absent when none."""
    return _sums(conn, board, "label")


def every_board(conn: Connection) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """board -> (statuses, labels) as kept, for every board with a non-zero tally."""
    out: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    q = (select(tallies.c.board, tallies.c.kind, tallies.c.name, func.sum(tallies.c.n))
         .group_by(tallies.c.board, tallies.c.kind, tallies.c.name))
    for board, kind, name, n in conn.execute(q):
        if n:
            out.setdefault(board, ({}, {}))[0 if kind == "status" else 1][name] = int(n)
    return out


def recount(conn: Connection) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """What the tallies should say, counted from the rows (reads every task: for checks only)."""
    out: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for board, status, raw in conn.execute(select(tasks.c.board, tasks.c.status, tasks.c.labels)):
        by_status, by_label = out.setdefault(board, (Counter(), Counter()))
        by_status[status] += 1
        if raw and status != "archived":
            by_label.update(json.loads(raw))
    return {b: (dict(s), dict(lab)) for b, (s, lab) in out.items()}


def rebuild(conn: Connection) -> None:
    """Replace every tally with a count of the rows, with task writes held off meanwhile."""
    if not dialect.is_sqlite(conn):
        conn.exec_driver_sql("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
    conn.execute(delete(tallies))
    rows = [{"board": board, "kind": kind, "name": name, "shard": 0, "n": n}
            for board, (by_status, by_label) in recount(conn).items()
            for kind, counts in (("status", by_status), ("label", by_label))
            for name, n in counts.items()]
    if rows:
        conn.execute(insert(tallies), rows)


__all__ = ["every_board", "labels", "rebuild", "recount", "statuses"]
