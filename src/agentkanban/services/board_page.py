"""The dashboard's board, a page per column (``GET /board/page``): what it costs does not grow
with the board.

``GET /board`` (the seed's, kept for its clients) returns every task. The dashboard reads this
instead: each column's first page (done and archived newest first, the others by priority then
age), the exact number of tasks in each column, and the next page of one column on request.
Search and filters run in the database.
"""

from __future__ import annotations

import json
from typing import Any

from ..domain.statuses import BOARD_COLUMNS, Status, parse_status
from ..errors import ValidationError
from ..store import board_page as store_page
from ..store import events as store_events
from . import activity, why
from .base import Ctx
from .views import _link_tallies, add_age, decorate

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Within each column: the column's own order, or soonest due first.
SORTS = (None, "", "priority", "due")


def page(ctx: Ctx, board: str, *, limit: int = DEFAULT_LIMIT, column: str | None = None,
         offset: int = 0, tenant: str | None = None, assignee: str | None = None,
         q: str | None = None, include_archived: bool = False, label: Any = None,
         due: str | None = None, attention: bool = False, sort: str | None = None,
         ) -> dict[str, Any]:
    """Every column's first ``limit`` cards from ``offset`` (or, with ``column``, that column's
    alone), with exact counts and the offset of each column's next page (None at the end)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ValidationError("offset cannot be negative")
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r}; use one of: {', '.join(s for s in SORTS if s)}")
    names = list(BOARD_COLUMNS) + (["archived"] if include_archived else [])
    if column is not None:
        name = parse_status(column).value
        if name == Status.ARCHIVED.value and not include_archived:
            include_archived = True
        names = [name]
    from .filters import where

    filters: dict[str, Any] = {"tenant": tenant or None, "assignee": assignee,
                               "q": (q or "").strip() or None,
                               "extra": where(ctx, labels=label, due=due, attention=attention)}
    now = ctx.now()
    with ctx.store.read() as conn:
        counts = store_page.counts(conn, board, names, **filters)
        pages = {n: store_page.column_rows(conn, board, n, offset=offset, limit=limit,
                                           by_due=sort == "due", **filters)
                 for n in names}
        ids = [row[keys.index("id")] for keys, rows in pages.values() for row in rows]
        links = store_page.links_of(conn, ids)
        comments = store_page.comment_counts(conn, ids)
        tenants = store_page.distinct(conn, board, "tenant")
        assignees = store_page.distinct(conn, board, "assignee", live_only=True)
        latest = store_events.max_id(conn, board)
    from .labels import board_labels

    label_list = board_labels(ctx, board)
    parents, children, done = _link_tallies(links)
    columns: list[dict[str, Any]] = []
    for name in names:
        keys, rows = pages[name]
        cards = [_card(dict(zip(keys, row, strict=True)), now, parents, children, done, comments)
                 for row in rows]
        end = offset + len(cards)
        columns.append({"name": name, "tasks": cards, "count": counts[name],
                        "next_offset": end if end < counts[name] else None})
    decorate(ctx, board, {c["name"]: c["tasks"] for c in columns}, now)
    cards = [card for c in columns for card in c["tasks"]]
    why.explain_all(ctx, board, cards)
    activity.annotate(ctx, cards)
    return {"columns": columns, "tenants": tenants, "assignees": assignees,
            "labels": label_list, "latest_event_id": latest, "now": int(now)}


def _card(d: dict[str, Any], now: float, parents: dict[str, int], children: dict[str, int],
          done: dict[str, int], comments: dict[str, int]) -> dict[str, Any]:
    """The same card as ``GET /board``'s."""
    tid = d["id"]
    d["skills"] = json.loads(d["skills"]) if d["skills"] else []
    d["labels"] = json.loads(d["labels"]) if d["labels"] else []
    add_age(d, now)
    n_parents, n_children = parents.get(tid, 0), children.get(tid, 0)
    d["link_counts"] = {"parents": n_parents, "children": n_children}
    d["comment_count"] = comments.get(tid, 0)
    d["progress"] = {"done": done.get(tid, 0), "total": n_children} if n_children else None
    return d
