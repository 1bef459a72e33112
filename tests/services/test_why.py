"""Why a task is not moving: one phrase per cause, from the facts the dispatcher decides on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentkanban.config import Profile
from agentkanban.costsconfig import Budgets, Limit, Provider
from agentkanban.domain.models import OUTCOME_CRASHED, OUTCOME_RATE_LIMITED
from agentkanban.domain.statuses import Status
from agentkanban.services import Actor, board_page, health, runs, tasks, transitions, why

from .helpers import BOARD, claim, make

USER = Actor("alice")


@pytest.fixture
def wctx(ctx):
    """Two profiles, caps as in the issue, and a dispatcher that just passed."""
    ctx.settings = replace(ctx.settings, profiles={
        "coder": Profile(command=["true"], max_concurrency=2),
        "reviewer": Profile(command=["true"])},
        dispatch=replace(ctx.settings.dispatch, max_in_progress=8, failure_limit=3))
    health.record_dispatcher_tick(ctx, {})
    return ctx


def why_of(ctx, task_id):
    """The reason as the paged board gives it, checked against the single-task answer."""
    cards = {c["id"]: c for col in board_page.page(ctx, BOARD)["columns"] for c in col["tasks"]}
    card = cards[task_id]
    assert why.explain_one(ctx, BOARD, dict(card)) == card["why"]
    return card["why"]


def new(ctx, title="task", **kw):
    return tasks.create(ctx, BOARD, title=title, actor=USER, **kw).task


def test_a_ready_task_that_can_start_has_no_reason(wctx):
    t = new(wctx, assignee="coder")
    assert why_of(wctx, t.id) is None


def test_no_profile_names_the_profiles_there_are(wctx):
    t = new(wctx, assignee="writer")
    assert why_of(wctx, t.id) == {"kind": "no_profile",
                                  "text": "no profile named writer (profiles: coder, reviewer)"}


def test_unassigned(wctx):
    t = new(wctx)
    assert why_of(wctx, t.id) == {"kind": "unassigned",
                                  "text": "no assignee (profiles: coder, reviewer)"}


def test_waiting_for_a_parent(wctx):
    p = new(wctx, "Design schema", assignee="coder")
    c = new(wctx, "Build it", assignee="coder", parents=[p.id])
    assert c.status is Status.TODO
    assert why_of(wctx, c.id) == {"kind": "parent", "text": f"waiting for parent {p.id}: Design schema"}
    p2 = new(wctx, "Second", assignee="coder")
    c2 = new(wctx, "Both", assignee="coder", parents=[p.id, p2.id])
    first = min((p.id, p.title), (p2.id, p2.title))  # parents are named in id order
    assert why_of(wctx, c2.id)["text"] == f"waiting for parent {first[0]}: {first[1]} (and 1 more)"


def test_profile_at_its_limit(wctx):
    running = [new(wctx, f"r{i}", assignee="coder") for i in range(2)]
    for t in running:
        claim(wctx, t.id)
    t = new(wctx, assignee="coder")
    assert why_of(wctx, t.id) == {"kind": "profile_cap", "text": "coder at its limit of 2"}
    other = new(wctx, assignee="reviewer")
    assert why_of(wctx, other.id) is None


def test_board_at_its_limit(wctx):
    wctx.settings = replace(wctx.settings, dispatch=replace(wctx.settings.dispatch, max_in_progress=1))
    claim(wctx, new(wctx, assignee="reviewer").id, profile="reviewer")
    t = new(wctx, assignee="coder")
    assert why_of(wctx, t.id) == {"kind": "board_cap", "text": "board at its limit of 1"}


def test_retry_after_a_failure(wctx, clock):
    t = new(wctx, assignee="coder")
    c = claim(wctx, t.id)
    runs.end_attempt(wctx, BOARD, t.id, c.run_id, outcome=OUTCOME_CRASHED, error="exit 1",
                     count_failure=True, failure_limit=3)
    w = why_of(wctx, t.id)
    cols = {c["name"]: c["tasks"] for c in board_page.page(wctx, BOARD)["columns"]}
    at = cols["ready"][0]["next_attempt_at"]
    assert w == {"kind": "retry", "text": f"retry 2 of 3 at {why.clock(at, clock())}"}
    clock.advance(3600)
    health.record_dispatcher_tick(wctx, {})
    assert why_of(wctx, t.id) is None


def test_cooling_down_after_a_rate_limit(wctx, clock):
    t = new(wctx, assignee="coder")
    c = claim(wctx, t.id)
    runs.end_attempt(wctx, BOARD, t.id, c.run_id, outcome=OUTCOME_RATE_LIMITED, error="429",
                     count_failure=False, failure_limit=3)
    at = why.clock(clock() + wctx.settings.dispatch.rate_limit_cooldown_seconds, clock())
    assert why_of(wctx, t.id) == {"kind": "retry",
                                  "text": f"cooling down after a rate limit, next try {at}"}
    # A provider shared with other profiles cools them all down, their other tasks too.
    wctx.settings = replace(wctx.settings, providers={"acct": Provider(profiles=["coder", "reviewer"])})
    other = new(wctx, assignee="reviewer")
    assert why_of(wctx, other.id) == {"kind": "provider_cooldown",
                                      "text": f"cooling down after a rate limit, next try {at}"}


def test_provider_at_its_limit(wctx):
    wctx.settings = replace(wctx.settings, providers={
        "acct": Provider(profiles=["coder", "reviewer"], max_concurrency=1)})
    claim(wctx, new(wctx, assignee="reviewer").id, profile="reviewer")
    t = new(wctx, assignee="coder")
    assert why_of(wctx, t.id) == {"kind": "provider_cap", "text": "provider acct at its limit of 1"}


def test_budget_reached(wctx):
    wctx.settings = replace(wctx.settings, budgets=Budgets(boards={BOARD: Limit(daily_usd=0)}))
    t = new(wctx, assignee="coder")
    w = why_of(wctx, t.id)
    assert w["kind"] == "budget" and "budget reached" in w["text"]


def test_no_dispatcher_running(ctx, wctx, clock):
    t = new(wctx, assignee="coder")
    clock.advance(3600)  # the last pass is an hour old
    w = why_of(wctx, t.id)
    assert w["kind"] == "no_dispatcher" and w["text"].startswith("no dispatcher running (last seen ")


def test_blocked_says_why_and_by_whom(wctx):
    t = new(wctx, assignee="coder")
    transitions.block(wctx, BOARD, t.id, actor=Actor("bob"), reason="needs the API key")
    assert why_of(wctx, t.id) == {"kind": "blocked", "text": "blocked by bob: needs the API key"}
    u = new(wctx, assignee="coder")
    transitions.block(wctx, BOARD, u.id, actor=Actor("bob"))
    assert why_of(wctx, u.id)["text"] == "blocked by bob (no reason given)"


def test_gave_up_shows_the_last_error_and_the_attempts(wctx):
    t = new(wctx, assignee="coder")
    for _ in range(3):
        c = claim(wctx, t.id)
        runs.end_attempt(wctx, BOARD, t.id, c.run_id, outcome=OUTCOME_CRASHED,
                         error="worker exited with code 2", count_failure=True, failure_limit=3)
    assert why_of(wctx, t.id) == {"kind": "gave_up",
                                  "text": "gave up after 3 failed attempts: worker exited with code 2"}


def test_waiting_columns_and_moving_ones(wctx):
    tri = make(wctx, Status.TRIAGE)
    assert why_of(wctx, tri.id) == {"kind": "parked", "text": "in triage: move it to ready to start"}
    todo = make(wctx, Status.TODO)
    assert why_of(wctx, todo.id)["kind"] == "parked"
    sched = make(wctx, Status.SCHEDULED)
    assert why_of(wctx, sched.id)["kind"] == "scheduled"
    assert why_of(wctx, make(wctx, Status.RUNNING).id) is None
    assert why_of(wctx, make(wctx, Status.DONE).id) is None


def test_a_page_costs_the_same_few_queries_whatever_its_cards(wctx):
    """The facts are read once per page: more cards, no more statements."""
    from sqlalchemy import event

    def statements(n):
        for i in range(n):
            p = new(wctx, f"p{i}", assignee="coder")
            new(wctx, f"c{i}", assignee="writer" if i % 2 else "coder", parents=[p.id])
            transitions.block(wctx, BOARD, new(wctx, f"b{i}").id, actor=USER, reason="r")
        cards = [c for col in board_page.page(wctx, BOARD)["columns"] for c in col["tasks"]]
        seen = []
        engine = wctx.store.engine

        def count(*_a):
            seen.append(1)
        event.listen(engine, "before_cursor_execute", count)
        try:
            why.explain_all(wctx, BOARD, cards)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    assert statements(2) == statements(10)


def test_awaiting_approval_until_a_person_approves(wctx):
    from agentkanban.services import review

    t = new(wctx, assignee="coder", requires_approval=True)
    assert why_of(wctx, t.id) == {"kind": "awaiting_approval", "text": "awaiting approval to start"}
    review.approve_start(wctx, BOARD, t.id, actor=USER)
    assert why_of(wctx, t.id) is None


def test_in_review_says_which_check_it_waits_for(wctx):
    from agentkanban.services import review

    human = new(wctx, assignee="coder", review_by="human")
    agent = new(wctx, assignee="coder", review_by="reviewer")
    for t in (human, agent):
        c = claim(wctx, t.id)
        transitions.complete(wctx, BOARD, t.id, actor=Actor("coder", worker_task=t.id, run_id=c.run_id,
                                                           run_token=c.token), summary="done")
    assert why_of(wctx, human.id) == {
        "kind": "review", "text": "awaiting a person's review: approve it or request changes"}
    assert why_of(wctx, agent.id) == {"kind": "review", "text": "waiting for review by reviewer"}
    claim(wctx, agent.id, "reviewer")  # the reviewer's attempt is under way: it is moving
    assert why_of(wctx, agent.id) is None
    review.approve(wctx, BOARD, human.id, actor=USER)
    assert why_of(wctx, human.id) is None
