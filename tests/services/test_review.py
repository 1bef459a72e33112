"""Review, acceptance and approval in the services, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings
from agentkanban.domain.statuses import Status
from agentkanban.errors import Forbidden, InvalidTransition, ValidationError
from agentkanban.services import Actor, Ctx, context, events, links, runs, tasks, transitions
from agentkanban.services import review as review_svc

from .helpers import BOARD, claim, worker_actor

CONFIG = """
profiles:
  coder:
    command: ["true"]
    review: {by: reviewer, max_rounds: 2}
    require_summary: true
  reviewer:
    command: ["true"]
  writer:
    command: ["true"]
    review: {by: human}
  tester:
    command: ["true"]
    acceptance: ["./check.sh"]
  gated:
    command: ["true"]
    requires_approval: true
"""


@pytest.fixture
def settings(home: Path, db_url: str) -> Settings:
    (home / "config.yaml").write_text(CONFIG)
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


def submitted(ctx: Ctx, assignee: str = "coder", **kw: object) -> tuple[str, Actor]:
    t = tasks.create(ctx, BOARD, title="work", actor=Actor("user"), assignee=assignee, **kw).task  # type: ignore[arg-type]
    c = claim(ctx, t.id, assignee)
    me = worker_actor(c, assignee)
    done = transitions.complete(ctx, BOARD, t.id, actor=me, summary="did it", metadata={"files": 1})
    assert done.status is Status.REVIEW
    return t.id, me


def reviewer(ctx: Ctx, task_id: str, profile: str = "reviewer") -> Actor:
    c = claim(ctx, task_id, profile)
    assert c.task.status is Status.REVIEW
    return worker_actor(c, profile)


def test_complete_goes_to_review_and_reviewer_approves_with_handoff(ctx: Ctx, user: Actor) -> None:
    child = tasks.create(ctx, BOARD, title="child", actor=user, assignee="coder").task
    tid, _ = submitted(ctx)
    links.link(ctx, BOARD, tid, child.id)
    assert tasks.get(ctx, BOARD, child.id).status is Status.TODO  # held back by a parent in review
    task = tasks.get(ctx, BOARD, tid)
    assert (task.review_stage, task.review_rounds) == ("agent", 0)
    rev = reviewer(ctx, tid)
    assert "## Review: you are checking this work" in context.build(ctx, BOARD, tid)
    done = review_svc.approve(ctx, BOARD, tid, actor=rev, summary="looks right")
    assert done.status is Status.DONE and done.review_stage is None
    assert tasks.get(ctx, BOARD, child.id).status is Status.READY
    kinds = [(r.kind, r.outcome) for r in runs.list_runs(ctx, BOARD, tid)]
    assert kinds == [("work", "completed"), ("review", "approved")]
    work = runs.list_runs(ctx, BOARD, tid)[0]
    assert work.metadata == {"files": 1, "review": {"by": "reviewer", "summary": "looks right", "rounds": 0}}
    assert "did it" in context.build(ctx, BOARD, child.id)
    seen = [e.kind for e in events.since(ctx, 0, task_id=tid)]
    assert seen[-2:] == ["approved", "completed"] and "submitted" in seen
    # Repeated by the same attempt (a retry after a lost answer): a no-op that succeeds.
    assert review_svc.approve(ctx, BOARD, tid, actor=rev).status is Status.DONE


def test_changes_requested_then_blocked_after_max_rounds_with_thread(ctx: Ctx) -> None:
    tid, _ = submitted(ctx)
    rev = reviewer(ctx, tid)
    back = review_svc.request_changes(ctx, BOARD, tid, actor=rev, reason="tests missing")
    assert back.status is Status.READY and back.review_rounds == 1
    c = claim(ctx, tid)
    assert "tests missing" in context.build(ctx, BOARD, tid)
    transitions.complete(ctx, BOARD, tid, actor=worker_actor(c), summary="added tests")
    rev2 = reviewer(ctx, tid)
    assert "tests missing" in context.build(ctx, BOARD, tid)
    blocked = review_svc.request_changes(ctx, BOARD, tid, actor=rev2, reason="still wrong")
    assert blocked.status is Status.BLOCKED
    last = events.since(ctx, 0, task_id=tid)[-1]
    assert last.kind == "blocked" and "1. review by reviewer: tests missing" in last.payload["reason"]
    assert "2. review by reviewer: still wrong" in last.payload["reason"]
    again = transitions.unblock(ctx, BOARD, tid, actor=Actor("user"))
    assert again.review_rounds == 0


def test_refusals_change_nothing(ctx: Ctx, user: Actor) -> None:
    plain = tasks.create(ctx, BOARD, title="p", actor=user, assignee="coder").task
    with pytest.raises(InvalidTransition, match="not in review"):
        review_svc.approve(ctx, BOARD, plain.id, actor=user)
    tid, implementer = submitted(ctx)
    other, _ = submitted(ctx)
    rev = reviewer(ctx, tid)
    mark = events.latest_id(ctx)
    with pytest.raises(Forbidden):  # the implementer's ended attempt
        review_svc.approve(ctx, BOARD, tid, actor=implementer)
    with pytest.raises(Forbidden, match="own task"):  # a worker approving another task
        review_svc.approve(ctx, BOARD, other, actor=rev)
    with pytest.raises(ValidationError, match="reason is required"):
        review_svc.request_changes(ctx, BOARD, tid, actor=rev, reason="  ")
    with pytest.raises(InvalidTransition, match="approve"):  # a reviewer's complete
        transitions.complete(ctx, BOARD, tid, actor=rev, summary="x")
    with pytest.raises(InvalidTransition, match="in review"):  # a person's done by a move
        transitions.complete(ctx, BOARD, tid, actor=user, summary="x")
    assert events.latest_id(ctx) == mark and tasks.get(ctx, BOARD, tid).status is Status.REVIEW
    runs.reclaim(ctx, BOARD, tid, actor=user)  # a stale reviewer after a reclaim
    assert tasks.get(ctx, BOARD, tid).status is Status.REVIEW
    with pytest.raises(Forbidden, match="no longer current"):
        review_svc.approve(ctx, BOARD, tid, actor=rev)
    assert tasks.get(ctx, BOARD, tid).status is Status.REVIEW


def test_require_summary_refuses_empty_and_attempt_goes_on(ctx: Ctx, user: Actor) -> None:
    t = tasks.create(ctx, BOARD, title="w", actor=user, assignee="coder").task
    me = worker_actor(claim(ctx, t.id))
    with pytest.raises(ValidationError, match="requires a summary"):
        transitions.complete(ctx, BOARD, t.id, actor=me, summary="   ")
    assert tasks.get(ctx, BOARD, t.id).status is Status.RUNNING


def test_human_review_and_person_request_changes(ctx: Ctx, user: Actor) -> None:
    tid, _ = submitted(ctx, "writer")
    task = tasks.get(ctx, BOARD, tid)
    assert task.review_stage == "human"
    assert "review_requested" in [e.kind for e in events.since(ctx, 0, task_id=tid)]
    back = review_svc.request_changes(ctx, BOARD, tid, actor=user, reason="shorter please")
    assert back.status is Status.READY
    verdict = runs.list_runs(ctx, BOARD, tid)[-1]
    assert (verdict.kind, verdict.profile, verdict.outcome, verdict.error) == (
        "review", "user", "changes_requested", "shorter please")
    c = claim(ctx, tid, "writer")
    transitions.complete(ctx, BOARD, tid, actor=worker_actor(c, "writer"), summary="shorter")
    assert review_svc.approve(ctx, BOARD, tid, actor=user).status is Status.DONE


def test_self_review_refused(ctx: Ctx, user: Actor, home: Path, db_url: str) -> None:
    with pytest.raises(ValidationError, match="own assignee"):
        tasks.create(ctx, BOARD, title="x", actor=user, assignee="coder", review_by="coder")
    t = tasks.create(ctx, BOARD, title="x", actor=user, assignee="writer", review_by="reviewer").task
    from agentkanban.services import changes

    with pytest.raises(Exception, match="cannot review its own work"):
        changes.update(ctx, BOARD, t.id, changes.Update(assignee="reviewer"), actor=user)
    (home / "config.yaml").write_text("profiles:\n  a:\n    command: [x]\n    review: {by: a}\n")
    with pytest.raises(ValidationError, match="cannot review its own work"):
        load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


def test_acceptance_failure_is_a_round_and_pass_finishes(ctx: Ctx, user: Actor) -> None:
    tid, _ = submitted(ctx, "tester")
    assert tasks.get(ctx, BOARD, tid).review_stage == "acceptance"
    acc = claim(ctx, tid, "tester")
    assert [r.kind for r in runs.list_runs(ctx, BOARD, tid)][-1] == "acceptance"
    back = review_svc.acceptance_result(ctx, BOARD, tid, actor=worker_actor(acc, "tester"),
                                        passed=False, report="`./check.sh` exited 1:\nboom")
    assert back.status is Status.READY and back.review_rounds == 1
    c = claim(ctx, tid, "tester")
    assert "boom" in context.build(ctx, BOARD, tid)
    transitions.complete(ctx, BOARD, tid, actor=worker_actor(c, "tester"), summary="fixed")
    acc2 = claim(ctx, tid, "tester")
    with pytest.raises(Forbidden, match="reviewer"):  # an acceptance attempt cannot approve
        review_svc.approve(ctx, BOARD, tid, actor=worker_actor(acc2, "tester"))
    done = review_svc.acceptance_result(ctx, BOARD, tid, actor=worker_actor(acc2, "tester"),
                                        passed=True, report="1 passed")
    assert done.status is Status.DONE


def test_approval_gate_request_approve_and_withdraw(ctx: Ctx, user: Actor) -> None:
    t = tasks.create(ctx, BOARD, title="risky", actor=user, assignee="gated").task
    with pytest.raises(Forbidden):
        review_svc.approve_start(ctx, BOARD, t.id, actor=Actor("w", worker_task=t.id))
    assert review_svc.request_approval(ctx, BOARD, [t.id]) == [t.id]
    assert review_svc.request_approval(ctx, BOARD, [t.id]) == []  # asked once
    ok = review_svc.approve_start(ctx, BOARD, t.id, actor=user)
    assert ok.approval == "approved"
    assert [(r.kind, r.outcome, r.profile) for r in runs.list_runs(ctx, BOARD, t.id)] == [
        ("approval", "start_approved", "user")]
    tasks.edit(ctx, BOARD, t.id, body="now do something else")
    again = tasks.get(ctx, BOARD, t.id)
    assert again.approval is None
    assert events.since(ctx, 0, task_id=t.id)[-2].kind == "approval_withdrawn"
    plain = tasks.create(ctx, BOARD, title="p", actor=user, assignee="coder").task
    with pytest.raises(InvalidTransition, match="does not wait for approval"):
        review_svc.approve_start(ctx, BOARD, plain.id, actor=user)
    own = tasks.create(ctx, BOARD, title="o", actor=user, assignee="coder", requires_approval=True).task
    assert review_svc.approve_start(ctx, BOARD, own.id, actor=user).approval == "approved"


def test_review_is_not_a_move_target(ctx: Ctx, user: Actor) -> None:
    t = tasks.create(ctx, BOARD, title="p", actor=user, assignee="coder").task
    from agentkanban.services import changes

    with pytest.raises(InvalidTransition, match="review"):
        changes.update(ctx, BOARD, t.id, changes.Update(status="review"), actor=user)
