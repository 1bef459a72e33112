"""Every pair of statuses: allowed by the table or refused, and the event each move writes."""

from __future__ import annotations

import itertools

import pytest

from agentkanban.domain.statuses import DIRECT_TARGETS, TRANSITIONS, Status
from agentkanban.errors import InvalidTransition, ValidationError
from agentkanban.services import changes, events, runs, scheduling, tasks, transitions

from .helpers import BOARD, make

# The verb that moves a task into each status, and the event it writes.
EVENT_FOR = {
    Status.TRIAGE: "status", Status.TODO: "status", Status.READY: "status",
    Status.RUNNING: "claimed", Status.BLOCKED: "blocked", Status.DONE: "completed",
    Status.ARCHIVED: "archived", Status.SCHEDULED: "status",
}


def _move(ctx, user, task, to: Status):
    if to in (Status.TRIAGE, Status.TODO, Status.READY):
        return transitions.set_status(ctx, BOARD, task.id, to, actor=user)
    if to is Status.SCHEDULED:
        return scheduling.schedule(ctx, BOARD, task.id, ctx.now() + 3600)
    if to is Status.REVIEW:  # no move enters review: a worker's complete of checked work does
        return changes.update(ctx, BOARD, task.id, changes.Update(status="review"), actor=user)
    if to is Status.RUNNING:
        claimed = runs.claim(ctx, BOARD, task.id, profile="coder", lock="t:1", ttl=60)
        if claimed is None:
            raise InvalidTransition("not claimable")
        return claimed.task
    if to is Status.BLOCKED:
        return transitions.block(ctx, BOARD, task.id, actor=user, reason="r")
    if to is Status.DONE:
        return transitions.complete(ctx, BOARD, task.id, actor=user, summary="s")
    return transitions.archive(ctx, BOARD, task.id, actor=user)


def _allowed(frm: Status, to: Status) -> bool:
    if to is Status.REVIEW:
        return False  # see test_review: only a worker's complete of work its profile checks
    if frm is Status.REVIEW and to is Status.DONE:
        return False  # approved (services.review), never completed by a move
    if to is Status.RUNNING:
        return frm is Status.READY  # only a claim, only from ready
    if to is Status.SCHEDULED:
        return frm in scheduling.SCHEDULABLE  # by setting a start time; again from scheduled moves it
    return to in TRANSITIONS[frm]


@pytest.mark.parametrize("frm,to", list(itertools.product(Status, Status)),
                         ids=lambda s: s.value)
def test_transition_table(ctx, user, frm: Status, to: Status) -> None:
    task = make(ctx, frm)
    assert task.status is frm
    before = events.latest_id(ctx)
    if frm is to and to in DIRECT_TARGETS:  # a drop on its own column is a no-op
        assert _move(ctx, user, task, to) == task
        assert events.latest_id(ctx) == before
    elif _allowed(frm, to):
        moved = _move(ctx, user, task, to)
        assert moved.status is to
        assert tasks.get(ctx, BOARD, task.id).status is to
        new = events.since(ctx, before, task_id=task.id)
        assert EVENT_FOR[to] in [e.kind for e in new]
    else:
        with pytest.raises(InvalidTransition):
            _move(ctx, user, task, to)
        after = tasks.get(ctx, BOARD, task.id)
        assert after == task  # nothing changed
        assert events.latest_id(ctx) == before  # and nothing was logged


def test_running_is_only_reachable_by_claim(ctx, user) -> None:
    task = make(ctx, Status.READY)
    with pytest.raises(ValidationError, match="dispatcher"):
        transitions.set_status(ctx, BOARD, task.id, "running", actor=user)
    assert tasks.get(ctx, BOARD, task.id).status is Status.READY


def test_leaving_running_closes_the_run(ctx, user) -> None:
    task = make(ctx, Status.RUNNING)
    moved = transitions.set_status(ctx, BOARD, task.id, "ready", actor=user)
    assert moved.current_run_id is None and moved.claim_lock is None
    [run] = runs.list_runs(ctx, BOARD, task.id)
    assert run.outcome == "reclaimed" and run.ended_at is not None


def test_archive_of_running_task_closes_run_as_reclaimed(ctx, user) -> None:
    task = make(ctx, Status.RUNNING)
    transitions.archive(ctx, BOARD, task.id, actor=user)
    [run] = runs.list_runs(ctx, BOARD, task.id)
    assert run.outcome == "reclaimed"


def test_scheduled_tasks_wait_for_their_time(ctx, user, clock) -> None:
    parent = make(ctx, Status.READY, title="parent")
    later = tasks.create(ctx, BOARD, title="later", actor=user, scheduled_at=clock() + 600).task
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id],
                         scheduled_at=clock() + 600).task
    assert (later.status, child.status) == (Status.SCHEDULED, Status.SCHEDULED)
    assert scheduling.promote_due(ctx, BOARD) == []
    clock.advance(601)
    assert sorted(scheduling.promote_due(ctx, BOARD)) == sorted([later.id, child.id])
    assert tasks.get(ctx, BOARD, later.id).status is Status.READY
    assert tasks.get(ctx, BOARD, child.id).status is Status.TODO  # its parent is not done
    kinds = [e.kind for e in events.since(ctx, 0, task_id=later.id)]
    assert kinds[-2:] == ["status", "promoted"]


def test_scheduling_a_task_by_edit_and_releasing_it(ctx, user, clock) -> None:
    t = make(ctx, Status.READY)
    moved = scheduling.schedule(ctx, BOARD, t.id, clock() + 60)
    assert (moved.status, moved.scheduled_at) == (Status.SCHEDULED, clock() + 60)
    released = scheduling.schedule(ctx, BOARD, t.id, None)
    assert (released.status, released.scheduled_at) == (Status.READY, None)
    running = make(ctx, Status.RUNNING, title="busy")
    with pytest.raises(InvalidTransition):
        scheduling.schedule(ctx, BOARD, running.id, clock() + 60)
    from agentkanban.errors import ValidationError

    with pytest.raises(ValidationError):
        tasks.create(ctx, BOARD, title="x", actor=user, scheduled_at=-5)
