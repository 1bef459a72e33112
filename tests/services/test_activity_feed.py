"""The board's activity feed: newest first, filtered by task, profile and kind, paged back."""

from __future__ import annotations

import pytest

from agentkanban.errors import NotFound, ValidationError
from agentkanban.services import Actor, comments, events, tasks, transitions

from .helpers import BOARD, claim, worker_actor

USER = Actor("alice")


def test_newest_first_with_titles_and_filters(ctx) -> None:
    a = tasks.create(ctx, BOARD, title="Write docs", actor=USER, assignee="writer").task
    b = tasks.create(ctx, BOARD, title="Fix bug", actor=USER, assignee="coder").task
    comments.add(ctx, BOARD, a.id, "start with the API", actor=USER)
    c = claim(ctx, b.id)
    transitions.complete(ctx, BOARD, b.id, actor=worker_actor(c), summary="fixed")
    feed = events.activity(ctx, BOARD)
    kinds = [(e["task_id"], e["kind"]) for e in feed["events"]]
    assert kinds == [(b.id, "completed"), (b.id, "claimed"), (a.id, "commented"),
                     (b.id, "created"), (a.id, "created")]
    assert feed["events"][0]["title"] == "Fix bug" and feed["next_before"] is None
    only_a = events.activity(ctx, BOARD, task_id=a.id[:6])
    assert {e["task_id"] for e in only_a["events"]} == {a.id}
    coder = events.activity(ctx, BOARD, profile="Coder")
    assert [e["kind"] for e in coder["events"]] == ["completed", "claimed", "created"]
    assert [e["kind"] for e in events.activity(ctx, BOARD, kinds=["commented"])["events"]] == ["commented"]
    first = events.activity(ctx, BOARD, limit=2)
    assert len(first["events"]) == 2 and first["next_before"] == first["events"][-1]["id"]
    rest = events.activity(ctx, BOARD, before=first["next_before"], limit=10)
    assert [e["id"] for e in rest["events"]] == [e["id"] for e in feed["events"][2:]]


def test_bad_filters_are_refused(ctx) -> None:
    with pytest.raises(ValidationError, match="unknown event kind"):
        events.activity(ctx, BOARD, kinds=["exploded"])
    with pytest.raises(ValidationError, match="limit"):
        events.activity(ctx, BOARD, limit=0)
    with pytest.raises(NotFound):
        events.activity(ctx, BOARD, task_id="t_ffffffffff")
