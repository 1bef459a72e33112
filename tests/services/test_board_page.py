"""The dashboard's paged board: pages in each column's order, exact counts, filters in the database."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import ValidationError
from agentkanban.services import board_page, comments, tasks, transitions, views

from .helpers import BOARD, make


def _ids(col: dict) -> list[str]:
    return [t["id"] for t in col["tasks"]]


def test_pages_follow_each_columns_order_and_counts_are_exact(ctx, user, clock) -> None:
    ready = []
    for i in range(7):
        ready.append(tasks.create(ctx, BOARD, title=f"r{i}", actor=user, priority=i % 3).task)
        clock.advance(1)
    done = []
    for i in range(5):
        done.append(make(ctx, Status.DONE, f"d{i}"))
        clock.advance(1)
    full = {c["name"]: c for c in views.board_view(ctx, BOARD)["columns"]}
    first = {c["name"]: c for c in board_page.page(ctx, BOARD, limit=3)["columns"]}
    assert first["ready"]["count"] == 7 and first["done"]["count"] == 5
    assert _ids(first["ready"]) == _ids(full["ready"])[:3]  # the seed's order: priority, then age
    assert _ids(first["done"]) == [t.id for t in reversed(done)][:3]  # newest first
    assert first["ready"]["next_offset"] == 3 and first["running"]["next_offset"] is None
    # Walking a column page by page yields each card once, in order.
    seen, offset = [], 0
    while offset is not None:
        col = board_page.page(ctx, BOARD, limit=3, column="ready", offset=offset)["columns"][0]
        seen += _ids(col)
        offset = col["next_offset"]
    assert seen == _ids(full["ready"])
    # The cards are the board's cards, plus why each is not moving and what a running one's
    # worker reports (not in the seed's board).
    card = dict(first["ready"]["tasks"][0])
    assert card.pop("why") == {"kind": "unassigned", "text": "no assignee (no profiles configured)"}
    assert card.pop("activity") is None
    assert card.pop("runner") is None
    assert card == next(t for t in full["ready"]["tasks"] if t["id"] == card["id"])


def test_cards_carry_links_progress_and_comment_counts(ctx, user) -> None:
    parent = make(ctx, Status.READY, "parent")
    kids = [tasks.create(ctx, BOARD, title=f"k{i}", actor=user, parents=[parent.id]).task for i in range(3)]
    transitions.archive(ctx, BOARD, kids[0].id, actor=user)
    comments.add(ctx, BOARD, parent.id, "hi", actor=user)
    page = {c["name"]: c for c in board_page.page(ctx, BOARD)["columns"]}
    card = page["ready"]["tasks"][0]
    assert card["link_counts"] == {"parents": 0, "children": 3}
    assert card["progress"] == {"done": 0, "total": 3} and card["comment_count"] == 1
    assert page["todo"]["tasks"][0]["link_counts"] == {"parents": 1, "children": 0}


def test_search_and_filters_run_in_the_database(ctx, user) -> None:
    tasks.create(ctx, BOARD, title="Fix the login page", actor=user, tenant="acme", assignee="bob")
    tasks.create(ctx, BOARD, title="Fix the signup page", actor=user, tenant="zeta")
    tasks.create(ctx, BOARD, title="Write docs", actor=user, body="about 100%_ coverage")
    make(ctx, Status.ARCHIVED, "old login work")

    def titles(**kw) -> list[str]:
        out = board_page.page(ctx, BOARD, **kw)
        return sorted(t["title"] for c in out["columns"] for t in c["tasks"])

    assert titles(q="fix PAGE") == ["Fix the login page", "Fix the signup page"]
    assert titles(q="login") == ["Fix the login page"]
    assert titles(q="login", include_archived=True) == ["Fix the login page", "old login work"]
    assert titles(q="100%_") == ["Write docs"] and titles(q="0%x") == []  # no wildcards
    assert titles(tenant="zeta") == ["Fix the signup page"]
    assert titles(assignee="bob") == ["Fix the login page"]
    assert len(titles(assignee="")) == 2
    out = board_page.page(ctx, BOARD, q="fix")
    assert sum(c["count"] for c in out["columns"]) == 2
    assert out["tenants"] == ["acme", "zeta"] and out["assignees"] == ["bob"]


def test_bad_paging_is_refused(ctx) -> None:
    for kw in ({"limit": 0}, {"limit": board_page.MAX_LIMIT + 1}, {"offset": -1},
               {"column": "ready", "offset": -1}, {"column": "nope"}):
        with pytest.raises(ValidationError):
            board_page.page(ctx, BOARD, **kw)
    # offset without column skips as many cards in every column
    assert all(c["tasks"] == [] for c in board_page.page(ctx, BOARD, offset=5)["columns"])
