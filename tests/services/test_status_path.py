"""One path for every status change: one decision, one refusal, one transaction per PATCH."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import RUNNING_ONLY_BY_CLAIM, Status
from agentkanban.errors import InvalidTransition, ValidationError
from agentkanban.services import bulk, changes, events, links, tasks, transitions

from .helpers import BOARD, make


def test_running_is_refused_alike_everywhere(ctx, user) -> None:
    task = make(ctx, Status.READY)
    before = events.latest_id(ctx)
    with pytest.raises(ValidationError) as direct:
        transitions.set_status(ctx, BOARD, task.id, "running", actor=user)
    with pytest.raises(ValidationError) as patched:
        changes.update(ctx, BOARD, task.id, changes.Update(status="running"), actor=user)
    [out] = bulk.apply(ctx, BOARD, [task.id], bulk.Change(status="running"), actor=user)
    assert direct.value.message == patched.value.message == out.error == RUNNING_ONLY_BY_CLAIM
    assert events.latest_id(ctx) == before


def test_a_patch_is_all_or_nothing(ctx, user) -> None:
    """Assignee first, then a refused status: the assignee change is rolled back too."""
    task = make(ctx, Status.DONE)
    before = events.latest_id(ctx)
    with pytest.raises(InvalidTransition):
        changes.update(ctx, BOARD, task.id, changes.Update(assignee="bob", status="blocked",
                                                           priority=5, title="new"), actor=user)
    assert tasks.get(ctx, BOARD, task.id) == task
    assert events.latest_id(ctx) == before


def test_a_patch_applies_every_part_in_order(ctx, user) -> None:
    task = make(ctx, Status.READY)
    out = changes.update(ctx, BOARD, task.id, changes.Update(
        assignee="bob", status="done", priority=4, title="renamed", summary="did it"), actor=user)
    assert (out.assignee, out.status, out.priority, out.title) == ("bob", Status.DONE, 4, "renamed")
    kinds = [e.kind for e in events.since(ctx, 0, task_id=task.id)]
    assert kinds[-4:] == ["assigned", "completed", "reprioritized", "edited"]


def test_a_parked_todo_task_stays_parked(ctx, user) -> None:
    """A todo task with no unfinished parent is parked: no later write promotes it by chance."""
    parked = make(ctx, Status.TODO, "parked")
    other = make(ctx, Status.READY, "other")
    transitions.complete(ctx, BOARD, other.id, actor=user)
    assert tasks.get(ctx, BOARD, parked.id).status is Status.TODO
    assert transitions.promote_board(ctx, BOARD) == [parked.id]  # the operator's explicit sweep


def test_completion_promotes_only_its_own_children(ctx, user) -> None:
    a, b = make(ctx, Status.READY, "a"), make(ctx, Status.READY, "b")
    ca = tasks.create(ctx, BOARD, title="ca", actor=user, parents=[a.id]).task
    cb = tasks.create(ctx, BOARD, title="cb", actor=user, parents=[b.id]).task
    both = tasks.create(ctx, BOARD, title="both", actor=user, parents=[a.id, b.id]).task
    transitions.complete(ctx, BOARD, a.id, actor=user)
    status = {t.title: t.status for t in tasks.list_tasks(ctx, BOARD)}
    assert (status["ca"], status["cb"], status["both"]) == (Status.READY, Status.TODO, Status.TODO)
    transitions.archive(ctx, BOARD, b.id, actor=user)
    assert tasks.get(ctx, BOARD, both.id).status is Status.READY
    assert tasks.get(ctx, BOARD, cb.id).status is Status.READY
    assert ca.status is Status.TODO


def test_unlink_promotes_only_when_that_parent_held_the_child(ctx, user) -> None:
    done = make(ctx, Status.DONE, "done parent")
    parked = make(ctx, Status.TODO, "parked")
    links.link(ctx, BOARD, done.id, parked.id)
    links.unlink(ctx, BOARD, done.id, parked.id)
    assert tasks.get(ctx, BOARD, parked.id).status is Status.TODO
