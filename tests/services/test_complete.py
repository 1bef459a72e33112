"""Completion with a structured handoff, blocking, and the fencing of worker writes."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import Forbidden, InvalidTransition, ValidationError
from agentkanban.services import Actor, comments, context, events, runs, subs, tasks, transitions

from .helpers import BOARD, claim, make, worker_actor


def test_worker_completion_records_handoff_on_its_run(ctx, user) -> None:
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    me = worker_actor(c)
    done = transitions.complete(ctx, BOARD, t.id, actor=me, summary="Built it\nmore lines",
                                metadata='{"files": ["a.py"], "tests": 3}', result="ok")
    assert done.status is Status.DONE and done.current_run_id is None and done.result == "ok"
    [run] = runs.list_runs(ctx, BOARD, t.id)
    assert (run.outcome, run.summary, run.metadata) == ("completed", "Built it\nmore lines",
                                                        {"files": ["a.py"], "tests": 3})
    ev = events.since(ctx, 0, task_id=t.id)[-1]
    assert ev.kind == "completed" and ev.payload["summary"] == "Built it" and ev.run_id == run.id


def test_completion_of_never_claimed_task_records_zero_length_run(ctx, user) -> None:
    t = make(ctx, Status.READY)
    transitions.complete(ctx, BOARD, t.id, actor=user, summary="by hand", metadata={"k": 1})
    [run] = runs.list_runs(ctx, BOARD, t.id)
    assert run.started_at == run.ended_at and run.summary == "by hand" and run.metadata == {"k": 1}


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", '"text"'])
def test_malformed_metadata_changes_nothing(ctx, user, bad) -> None:
    t = make(ctx, Status.READY)
    before = events.latest_id(ctx)
    with pytest.raises(ValidationError, match="metadata"):
        transitions.complete(ctx, BOARD, t.id, actor=user, summary="s", metadata=bad)
    assert tasks.get(ctx, BOARD, t.id) == t and events.latest_id(ctx) == before


def test_worker_may_only_complete_its_own_task(ctx, user) -> None:
    mine, other = make(ctx, Status.READY, "mine"), make(ctx, Status.READY, "other")
    c = claim(ctx, mine.id)
    me = worker_actor(c)
    for verb in (transitions.complete, transitions.block):
        with pytest.raises(Forbidden, match="own task"):
            verb(ctx, BOARD, other.id, actor=me)
    with pytest.raises(Forbidden, match="own task"):
        runs.heartbeat(ctx, BOARD, other.id, actor=me)
    assert tasks.get(ctx, BOARD, other.id).status is Status.READY


def test_stale_worker_cannot_complete_the_new_attempt(ctx, user) -> None:
    t = make(ctx, Status.READY)
    first = claim(ctx, t.id)
    runs.reclaim(ctx, BOARD, t.id, actor=user, reason="stuck")
    second = claim(ctx, t.id)
    stale = worker_actor(first)
    with pytest.raises(Forbidden, match="no longer current"):
        transitions.complete(ctx, BOARD, t.id, actor=stale, summary="late")
    forged = Actor("coder", worker_task=t.id, run_id=second.run_id, run_token=first.token)
    with pytest.raises(Forbidden, match="no longer current"):
        transitions.complete(ctx, BOARD, t.id, actor=forged, summary="forged")
    assert tasks.get(ctx, BOARD, t.id).status is Status.RUNNING
    transitions.complete(ctx, BOARD, t.id, actor=worker_actor(second), summary="real")
    outcomes = [r.outcome for r in runs.list_runs(ctx, BOARD, t.id)]
    assert outcomes == ["reclaimed", "completed"]


def test_worker_comments_carry_its_profile(ctx, user) -> None:
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id, profile="coder")
    comment = comments.add(ctx, BOARD, t.id, "hello", actor=worker_actor(c), author="the boss")
    assert comment.author == "coder"
    assert comments.add(ctx, BOARD, t.id, "hi", actor=user, author="alice").author == "alice"
    with pytest.raises(ValidationError):
        comments.add(ctx, BOARD, t.id, "   ", actor=user)


def test_heartbeat_extends_the_lease(ctx, user, clock) -> None:
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    clock.advance(100)
    hb = runs.heartbeat(ctx, BOARD, t.id, actor=worker_actor(c), note="halfway", ttl=900)
    assert hb.last_heartbeat_at == clock() and hb.claim_expires == clock() + 900
    assert events.since(ctx, 0, task_id=t.id)[-1].payload == {"note": "halfway"}


def test_failures_give_up_at_the_limit(ctx, user) -> None:
    t = make(ctx, Status.READY, max_retries=2)
    for n in (1, 2):
        c = claim(ctx, t.id)
        after = runs.end_attempt(ctx, BOARD, t.id, c.run_id, outcome="crashed", error=f"boom {n}",
                                 count_failure=True, failure_limit=5)
        assert after is not None
    assert after.status is Status.BLOCKED and after.last_failure_error == "boom 2"
    assert [e.kind for e in events.since(ctx, 0, task_id=t.id)][-2:] == ["crashed", "gave_up"]
    assert runs.end_attempt(ctx, BOARD, t.id, c.run_id, outcome="crashed", error="again",
                            count_failure=True, failure_limit=5) is None  # already handled
    again = transitions.unblock(ctx, BOARD, t.id, actor=user)
    assert again.status is Status.READY and again.consecutive_failures == 0


def test_block_and_double_block(ctx, user) -> None:
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    blocked = transitions.block(ctx, BOARD, t.id, actor=worker_actor(c), reason="need a key")
    assert blocked.status is Status.BLOCKED
    [run] = runs.list_runs(ctx, BOARD, t.id)
    assert (run.outcome, run.summary) == ("blocked", "need a key")
    with pytest.raises(InvalidTransition):
        transitions.block(ctx, BOARD, t.id, actor=user, reason="again")


def test_subscriptions_end_after_final_delivery_is_owed(ctx, user) -> None:
    t = make(ctx, Status.READY)
    subs.subscribe(ctx, BOARD, t.id, platform="telegram", chat_id="42")
    assert subs.subscribe(ctx, BOARD, t.id, platform="telegram", chat_id="42") is False
    transitions.complete(ctx, BOARD, t.id, actor=user, summary="ok")
    assert subs.list_subs(ctx, BOARD, t.id) == []
    from agentkanban.store import subs as store_subs

    with ctx.store.read() as conn:
        [d] = store_subs.deliveries_for_task(conn, t.id)
    assert (d.platform, d.chat_id, d.status) == ("telegram", "42", "pending")


def test_context_document(ctx, user, clock) -> None:
    parent = make(ctx, Status.READY, "design the API")
    child = tasks.create(ctx, BOARD, title="implement", actor=user, body="Do **it**",
                         parents=[parent.id], assignee="coder").task
    c = claim(ctx, parent.id)
    transitions.complete(ctx, BOARD, parent.id, actor=worker_actor(c), summary="API designed",
                         metadata={"endpoints": 3})
    c2 = claim(ctx, child.id)
    runs.end_attempt(ctx, BOARD, child.id, c2.run_id, outcome="crashed", error="exit 1",
                     count_failure=True, failure_limit=3)
    comments.add(ctx, BOARD, child.id, "remember the tests", actor=user, author="alice")
    clock.advance(3700)
    doc = context.build(ctx, BOARD, child.id)
    assert doc.startswith(f"# Kanban task {child.id}: implement")
    assert "Do **it**" in doc
    assert "## Prior attempts on this task" in doc and "crashed" in doc and "exit 1" in doc
    assert "## Parent task results" in doc and "API designed" in doc and '"endpoints": 3' in doc
    assert "## Recent work by @coder" in doc
    assert "comment from `alice`" in doc and "remember the tests" in doc and "1h ago" in doc


def test_a_repeated_complete_of_the_same_attempt_is_a_no_op(ctx, user) -> None:
    """A worker retrying `kanban complete` after a dropped connection: success, one completion."""
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    w = worker_actor(c)
    done = transitions.complete(ctx, BOARD, t.id, actor=w, summary="first")
    before = events.latest_id(ctx)
    again = transitions.complete(ctx, BOARD, t.id, actor=w, summary="second")
    assert again.status is Status.DONE and again.result == done.result
    assert events.latest_id(ctx) == before  # nothing written
    assert [r.outcome for r in runs.list_runs(ctx, BOARD, t.id)] == ["completed"]
    assert runs.list_runs(ctx, BOARD, t.id)[0].summary == "first"
    # Another attempt's token, or a different ending, is still refused.
    stale = Actor("coder", worker_task=t.id, run_id=c.run_id, run_token="not-the-token")
    with pytest.raises(Forbidden):
        transitions.complete(ctx, BOARD, t.id, actor=stale)
    with pytest.raises(Forbidden):
        transitions.block(ctx, BOARD, t.id, actor=w, reason="late")


def test_a_repeated_block_of_the_same_attempt_is_a_no_op(ctx, user) -> None:
    t = make(ctx, Status.READY)
    w = worker_actor(claim(ctx, t.id))
    transitions.block(ctx, BOARD, t.id, actor=w, reason="need input")
    before = events.latest_id(ctx)
    assert transitions.block(ctx, BOARD, t.id, actor=w, reason="need input").status is Status.BLOCKED
    assert events.latest_id(ctx) == before
