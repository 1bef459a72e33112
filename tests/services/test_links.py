"""Dependencies: cycles refused, gating on link, promotion on unlink and completion."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from agentkanban.domain.statuses import Status
from agentkanban.errors import ValidationError
from agentkanban.services import boards, events, links, tasks, transitions

from .helpers import BOARD, make


def test_self_link_and_cycles_refused(ctx, user) -> None:
    a, b, c = (make(ctx, Status.READY, n) for n in "abc")
    assert links.link(ctx, BOARD, a.id, b.id)
    assert links.link(ctx, BOARD, b.id, c.id)
    before = events.latest_id(ctx)
    with pytest.raises(ValidationError, match="itself"):
        links.link(ctx, BOARD, a.id, a.id)
    with pytest.raises(ValidationError, match="cycle"):
        links.link(ctx, BOARD, c.id, a.id)
    with pytest.raises(ValidationError, match="cycle"):
        links.link(ctx, BOARD, b.id, a.id)
    assert events.latest_id(ctx) == before
    assert not links.link(ctx, BOARD, a.id, b.id)  # already linked: no-op


def test_link_to_unfinished_parent_demotes_ready_child(ctx, user) -> None:
    parent = make(ctx, Status.READY, "parent")
    child = make(ctx, Status.READY, "child")
    links.link(ctx, BOARD, parent.id, child.id)
    assert tasks.get(ctx, BOARD, child.id).status is Status.TODO
    links.unlink(ctx, BOARD, parent.id, child.id)
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY
    kinds = [e.kind for e in events.since(ctx, 0, task_id=child.id)]
    assert kinds[-4:] == ["linked", "status", "unlinked", "promoted"]


def test_done_parent_does_not_demote(ctx, user) -> None:
    parent = make(ctx, Status.DONE, "parent")
    child = make(ctx, Status.READY, "child")
    links.link(ctx, BOARD, parent.id, child.id)
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY


def test_archived_parent_satisfies_child(ctx, user) -> None:
    parent = make(ctx, Status.READY, "parent")
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id]).task
    transitions.archive(ctx, BOARD, parent.id, actor=user)
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY


def test_reopened_parent_holds_children_back(ctx, user) -> None:
    parent = make(ctx, Status.READY, "parent")
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id]).task
    transitions.complete(ctx, BOARD, parent.id, actor=user, summary="ok")
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY
    transitions.set_status(ctx, BOARD, parent.id, "todo", actor=user)
    assert tasks.get(ctx, BOARD, child.id).status is Status.TODO


def test_cross_board_links_impossible(ctx, user) -> None:
    boards.create(ctx, "other")
    here = make(ctx, Status.READY)
    there = tasks.create(ctx, "other", title="there", actor=user).task
    # A task of another board is unknown here: a bad request, as the seed answers (400).
    with pytest.raises(ValidationError, match="unknown child task"):
        links.link(ctx, BOARD, here.id, there.id)
    with pytest.raises(ValidationError, match="unknown parent task"):
        tasks.create(ctx, "other", title="x", actor=user, parents=[here.id])
    assert not links.unlink(ctx, BOARD, here.id, there.id)


def test_unblock_regates_on_parents(ctx, user) -> None:
    parent = make(ctx, Status.READY, "parent")
    child = make(ctx, Status.BLOCKED, "child")
    links.link(ctx, BOARD, parent.id, child.id)
    assert transitions.unblock(ctx, BOARD, child.id, actor=user).status is Status.TODO
    transitions.complete(ctx, BOARD, parent.id, actor=user)
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY


def test_ready_refused_with_blocking_parents_named(ctx, user) -> None:
    parent = make(ctx, Status.READY, "the parent")
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id]).task
    from agentkanban.errors import Conflict

    with pytest.raises(Conflict, match=f"{parent.id} 'the parent'"):
        transitions.set_status(ctx, BOARD, child.id, "ready", actor=user)


def test_promotion_is_set_based(ctx, user) -> None:
    """Completing a parent of 200 waiting children promotes them with a constant number of UPDATEs."""
    parent = make(ctx, Status.READY, "parent")
    children = [tasks.create(ctx, BOARD, title=f"c{i}", actor=user, parents=[parent.id]).task
                for i in range(200)]
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):  # observe, do not alter
        if statement.lstrip().upper().startswith("UPDATE TASKS"):
            statements.append(statement)

    event.listen(ctx.store.engine, "before_cursor_execute", _count)
    try:
        transitions.complete(ctx, BOARD, parent.id, actor=user)
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", _count)
    assert len(statements) <= 2  # the CAS on the parent and one promotion UPDATE
    assert {tasks.get(ctx, BOARD, c.id).status for c in children} == {Status.READY}
