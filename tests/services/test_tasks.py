"""Creating, editing and assigning tasks; bad input changes nothing."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import Conflict, NotFound, ValidationError
from agentkanban.services import events, runs, tasks, transitions
from agentkanban.services.common import resolve_id

from .helpers import BOARD, claim, make


def test_create_gates_on_parents(ctx, user) -> None:
    p1 = make(ctx, Status.READY, "p1")
    p2 = make(ctx, Status.DONE, "p2")
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[p1.id, p2.id]).task
    assert child.status is Status.TODO
    only_done = tasks.create(ctx, BOARD, title="c2", actor=user, parents=[p2.id]).task
    assert only_done.status is Status.READY
    triaged = tasks.create(ctx, BOARD, title="c3", actor=user, parents=[p1.id], triage=True).task
    assert triaged.status is Status.TRIAGE
    created = events.since(ctx, 0, task_id=child.id)[0]
    assert created.kind == "created"
    assert created.payload["parents"] == [p1.id, p2.id]


def test_create_records_fields(ctx, user) -> None:
    t = tasks.create(ctx, BOARD, title="  Write docs  ", actor=user, body="**b**", assignee=" Coder ",
                     tenant="acme", priority=5, max_runtime_seconds=60, max_retries=3,
                     skills=["python", "docs"], workspace="dir:/srv/repo",
                     idempotency_key="k").task
    assert (t.title, t.assignee, t.tenant, t.priority) == ("Write docs", "coder", "acme", 5)
    assert (t.workspace_kind, t.workspace_path) == ("dir", "/srv/repo")
    assert t.skills == ("python", "docs") and t.max_retries == 3 and t.created_by == "user"
    assert t.id.startswith("t_") and len(t.id) == 10


def test_idempotency_key_returns_the_same_task(ctx, user) -> None:
    a = tasks.create(ctx, BOARD, title="x", actor=user, idempotency_key="once")
    b = tasks.create(ctx, BOARD, title="x again", actor=user, idempotency_key="once")
    assert a.created and not b.created and a.task.id == b.task.id
    transitions.archive(ctx, BOARD, a.task.id, actor=user)
    c = tasks.create(ctx, BOARD, title="x", actor=user, idempotency_key="once")
    assert c.created and c.task.id != a.task.id  # archived tasks free their key


@pytest.mark.parametrize("kwargs,message", [
    ({"title": "   "}, "title cannot be empty"),
    ({"title": "x" * 501}, "too long"),
    ({"title": "x", "parents": ["t_00000000"]}, "unknown parent"),
    ({"title": "x", "workspace": "dir:relative/path"}, "absolute"),
    ({"title": "x", "workspace": "worktree"}, "absolute path"),
    ({"title": "x", "workspace": "cloud:/x"}, "unknown workspace"),
    ({"title": "x", "skills": ["a,b"]}, "no commas"),
    ({"title": "x", "max_runtime_seconds": 0}, "positive"),
])
def test_bad_create_changes_nothing(ctx, user, kwargs, message) -> None:
    before = events.latest_id(ctx)
    with pytest.raises((ValidationError, NotFound), match=message):
        tasks.create(ctx, BOARD, actor=user, **kwargs)
    assert events.latest_id(ctx) == before
    assert tasks.list_tasks(ctx, BOARD, include_archived=True) == []


def test_unique_prefix_resolution(ctx, user) -> None:
    t = make(ctx, Status.READY)
    assert resolve_id(ctx, BOARD, t.id[:6]) == t.id
    assert resolve_id(ctx, BOARD, t.id[2:]) == t.id
    with pytest.raises(NotFound):
        resolve_id(ctx, BOARD, "t_zz")
    with pytest.raises(ValidationError):
        resolve_id(ctx, BOARD, "")


def test_ambiguous_prefix(ctx, user) -> None:
    made = [make(ctx, Status.READY, f"t{i}") for i in range(40)]
    firsts: dict[str, int] = {}
    for t in made:
        firsts[t.id[:3]] = firsts.get(t.id[:3], 0) + 1
    shared = next(p for p, n in firsts.items() if n > 1)  # 40 ids over 16 first digits
    with pytest.raises(ValidationError, match="ambiguous"):
        resolve_id(ctx, BOARD, shared)


def test_assign_refused_while_running_and_resets_failures(ctx, user) -> None:
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    with pytest.raises(Conflict, match="running"):
        tasks.assign(ctx, BOARD, t.id, "other")
    runs.end_attempt(ctx, BOARD, t.id, c.run_id, outcome="crashed", error="boom",
                     count_failure=True, failure_limit=5)
    assert tasks.get(ctx, BOARD, t.id).consecutive_failures == 1
    after = tasks.assign(ctx, BOARD, t.id, "Other")
    assert after.assignee == "other" and after.consecutive_failures == 0
    assert events.since(ctx, 0, task_id=t.id)[-1].kind == "assigned"
    assert tasks.assign(ctx, BOARD, t.id, None).assignee is None


def test_edit_and_reprioritize(ctx, user) -> None:
    t = make(ctx, Status.READY)
    e = tasks.edit(ctx, BOARD, t.id, title="new", body="body")
    assert (e.title, e.body) == ("new", "body")
    with pytest.raises(ValidationError):
        tasks.edit(ctx, BOARD, t.id, title=" ")
    assert tasks.get(ctx, BOARD, t.id).title == "new"
    assert tasks.reprioritize(ctx, BOARD, t.id, 9).priority == 9
    kinds = [e.kind for e in events.since(ctx, 0, task_id=t.id)]
    assert kinds[-2:] == ["edited", "reprioritized"]


def test_list_filters_and_sorts(ctx, user, clock) -> None:
    a = tasks.create(ctx, BOARD, title="b-low", actor=user, priority=1, assignee="x", tenant="t1").task
    clock.advance(1)
    b = tasks.create(ctx, BOARD, title="a-high", actor=user, priority=9).task
    c = make(ctx, Status.ARCHIVED, "gone")
    assert [t.id for t in tasks.list_tasks(ctx, BOARD)] == [b.id, a.id]
    assert [t.id for t in tasks.list_tasks(ctx, BOARD, sort="title")] == [b.id, a.id]
    assert [t.id for t in tasks.list_tasks(ctx, BOARD, sort="created")] == [a.id, b.id]
    assert [t.id for t in tasks.list_tasks(ctx, BOARD, assignee="x")] == [a.id]
    assert [t.id for t in tasks.list_tasks(ctx, BOARD, tenant="t1")] == [a.id]
    assert c.id in [t.id for t in tasks.list_tasks(ctx, BOARD, include_archived=True)]
    assert [t.id for t in tasks.list_tasks(ctx, BOARD, statuses=["archived"])] == [c.id]
    with pytest.raises(ValidationError):
        tasks.list_tasks(ctx, BOARD, sort="nope")


def test_delete_only_archived(ctx, user) -> None:
    live = make(ctx, Status.READY)
    gone = make(ctx, Status.ARCHIVED)
    with pytest.raises(Conflict):
        tasks.delete_archived(ctx, BOARD, [live.id, gone.id])
    assert tasks.get(ctx, BOARD, gone.id)  # refused as a whole
    assert tasks.delete_archived(ctx, BOARD, [gone.id]) == [gone.id]
    with pytest.raises(NotFound):
        tasks.get(ctx, BOARD, gone.id)
    assert events.since(ctx, 0, task_id=gone.id) == []
