"""The read models behind /board, /stats and /assignees."""

from __future__ import annotations

from agentkanban.config import load_settings
from agentkanban.domain.statuses import Status
from agentkanban.services import comments, links, open_ctx, tasks, views

from .helpers import BOARD, make


def test_board_view_shape(ctx, user, clock) -> None:
    parent = make(ctx, Status.READY, "parent", tenant="acme")
    clock.advance(1)
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id], priority=3).task
    done_child = make(ctx, Status.DONE, "done child")
    links.link(ctx, BOARD, parent.id, done_child.id)
    comments.add(ctx, BOARD, parent.id, "note", actor=user)
    make(ctx, Status.ARCHIVED, "old")
    clock.advance(10)
    view = views.board_view(ctx, BOARD)
    assert [c["name"] for c in view["columns"]] == ["triage", "todo", "scheduled", "ready", "running", "review",
                                                   "blocked", "done"]
    cols = {c["name"]: c["tasks"] for c in view["columns"]}
    [p] = cols["ready"]
    assert p["id"] == parent.id and p["link_counts"] == {"parents": 0, "children": 2}
    assert p["comment_count"] == 1 and p["progress"] == {"done": 1, "total": 2}
    assert p["age"]["created_age_seconds"] == 11 and p["status"] == "ready"
    expected = views.task_json(tasks.get(ctx, BOARD, parent.id), clock())
    assert {k: v for k, v in p.items() if k in expected} == expected  # same shape as /tasks/{id}
    assert cols["todo"][0]["id"] == child.id and cols["todo"][0]["progress"] is None
    assert view["tenants"] == ["acme"] and view["latest_event_id"] > 0
    with_archived = views.board_view(ctx, BOARD, include_archived=True)
    assert [c["name"] for c in with_archived["columns"]][-1] == "archived"
    assert [t["id"] for t in views.board_view(ctx, BOARD, tenant="acme")["columns"][3]["tasks"]] == [parent.id]


def test_stats_and_assignees(ctx, user, clock, settings) -> None:
    make(ctx, Status.READY, "a")
    clock.advance(30)
    make(ctx, Status.BLOCKED, "b")
    tasks.create(ctx, BOARD, title="c", actor=user, assignee="reviewer")
    s = views.stats(ctx, BOARD)
    assert s["by_status"]["ready"] == 2 and s["by_status"]["blocked"] == 1
    assert s["by_assignee"] == {"coder": {"ready": 1, "blocked": 1}, "reviewer": {"ready": 1}}
    assert s["oldest_ready_age_seconds"] == 30
    (settings.home / "config.yaml").write_text("profiles:\n  planner:\n    command: [echo]\n")
    ctx2 = open_ctx(load_settings({"KANBAN_HOME": str(settings.home),
                                   "KANBAN_DATABASE_URL": settings.database_url}))
    names = {a["name"]: a for a in views.assignees(ctx2, BOARD)}
    assert names["planner"] == {"name": "planner", "on_disk": True, "counts": {}}
    assert names["coder"]["counts"] == {"ready": 1, "blocked": 1} and not names["coder"]["on_disk"]


def test_board_columns_are_ordered_like_the_task_list(ctx, user, clock) -> None:
    """Each column is sorted by the board itself: priority first, then age, then id, the same
    order as the task list's default sort, and every card carries the full task shape."""
    for i in range(12):
        tasks.create(ctx, BOARD, title=f"t{i}", actor=user, priority=i % 3,
                     skills=["py", "sql"] if i % 4 == 0 else [])
        if i % 2:
            clock.advance(1)  # half the tasks share a creation time: the id decides
    blocked = make(ctx, Status.BLOCKED, "b", priority=9)
    cols = {c["name"]: c["tasks"] for c in views.board_view(ctx, BOARD)["columns"]}
    listed = tasks.list_json(ctx, BOARD, statuses=["ready"])
    assert [c["id"] for c in cols["ready"]] == [t["id"] for t in listed]
    assert [c["id"] for c in cols["blocked"]] == [blocked.id]
    now = clock()
    for card in cols["ready"]:
        expected = views.task_json(tasks.get(ctx, BOARD, card["id"]), now)
        assert {k: v for k, v in card.items() if k in expected} == expected
    assert sum(1 for c in cols["ready"] if c["skills"] == ["py", "sql"]) == 3
