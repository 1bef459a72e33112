"""Budgets and providers, decided by the one service rule the dispatcher consults, with real
worker processes and a clock that moves only when told."""

from __future__ import annotations

import pytest

from agentkanban.dispatch import Dispatcher, procs
from agentkanban.domain.statuses import Status
from agentkanban.services import context, subs, tasks
from agentkanban.services import usage as usage_svc
from agentkanban.store import deliveries as store_deliveries

from .conftest import agent, fake_ctx, wait_for
from .costs_helpers import configure

DAY = 86_400


def _finish(ctx, spawned):
    for s in spawned:
        wait_for(lambda s=s: not procs.pid_alive(s["pid"]), what=f"worker {s['pid']} to exit")


def _spend(ctx, tid, user, usd):
    usage_svc.record(ctx, "default", tid, actor=user, cost_usd=usd, model="m")


def _budget_deliveries(ctx, board="default"):
    with ctx.store.read() as conn:
        return [d for d in store_deliveries.listing(conn, board) if d.kind == "budget_reached"]


def test_profile_budget_holds_its_tasks_notifies_once_and_resumes_next_day(khome, clock, user):
    configure(khome, {"coder": {"command": agent("complete"), "max_concurrency": 5},
                      "writer": {"command": agent("complete")}},
              {"budgets": {"profiles": {"coder": {"daily_usd": 2}}}})
    ctx = fake_ctx(khome, clock)
    first = tasks.create(ctx, "default", title="first", actor=user, assignee="coder").task
    d = Dispatcher(ctx)
    _finish(ctx, d.tick().spawned)
    _spend(ctx, first.id, user, 2.5)  # counted when reported, after the attempt
    held = tasks.create(ctx, "default", title="held", actor=user, assignee="coder").task
    also = tasks.create(ctx, "default", title="also held", actor=user, assignee="coder").task
    other = tasks.create(ctx, "default", title="other", actor=user, assignee="writer").task
    for t, chat in ((held, "1"), (also, "2"), (other, "3")):
        subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id=chat)
    result = d.tick()
    assert [s["id"] for s in result.spawned] == [other.id]  # other profiles go on
    assert {h["id"] for h in result.held} == {held.id, also.id}
    reason = result.held[0]["reason"]
    assert reason.startswith("profile coder: daily budget reached ($2.50 of $2.00)")
    assert tasks.get(ctx, "default", held.id).status is Status.READY
    assert f"Waiting: {reason}" in context.build(ctx, "default", held.id)
    # One notification for the limit, to the chats of the tasks it holds back, not per pass.
    sent = _budget_deliveries(ctx)
    assert sorted(x.chat_id for x in sent) == ["1", "2"]
    _finish(ctx, result.spawned)
    assert {h["id"] for h in d.tick().held} == {held.id, also.id}
    assert len(_budget_deliveries(ctx)) == 2
    clock.advance(DAY)  # a new UTC day: the daily window rolled over
    again = d.tick()
    assert {s["id"] for s in again.spawned} == {held.id, also.id} and again.held == []
    _finish(ctx, again.spawned)


def test_monthly_token_budget_resumes_when_the_limit_is_raised(khome, clock, user):
    profiles = {"coder": {"command": agent("complete")}}
    configure(khome, profiles, {"budgets": {"profiles": {"coder": {"monthly_tokens": 1000}}}})
    ctx = fake_ctx(khome, clock)
    first = tasks.create(ctx, "default", title="first", actor=user, assignee="coder").task
    d = Dispatcher(ctx)
    _finish(ctx, d.tick().spawned)
    usage_svc.record(ctx, "default", first.id, actor=user, input_tokens=900, output_tokens=100)
    nxt = tasks.create(ctx, "default", title="next", actor=user, assignee="coder").task
    [h] = d.tick().held
    assert h["id"] == nxt.id and "monthly budget reached (1,000 of 1,000 tokens)" in h["reason"]
    configure(khome, profiles, {"budgets": {"profiles": {"coder": {"monthly_tokens": "lots"}}}})
    assert [h["id"] for h in d.tick().held] == [nxt.id]  # an invalid edit keeps the limit in force
    configure(khome, profiles, {"budgets": {"profiles": {"coder": {"monthly_tokens": 5000}}}})
    result = d.tick()  # the running dispatcher picks up the raised limit
    assert [s["id"] for s in result.spawned] == [nxt.id]
    _finish(ctx, result.spawned)


def test_board_budget_holds_every_profile(khome, clock, user):
    configure(khome, {"coder": {"command": agent("complete")}, "writer": {"command": agent("complete")}},
              {"budgets": {"boards": {"default": {"monthly_usd": 1}}}})
    ctx = fake_ctx(khome, clock)
    first = tasks.create(ctx, "default", title="first", actor=user, assignee="coder").task
    d = Dispatcher(ctx)
    _finish(ctx, d.tick().spawned)
    _spend(ctx, first.id, user, 1)
    a = tasks.create(ctx, "default", title="a", actor=user, assignee="coder").task
    b = tasks.create(ctx, "default", title="b", actor=user, assignee="writer").task
    result = d.tick()
    assert result.spawned == [] and {h["id"] for h in result.held} == {a.id, b.id}
    assert all(h["reason"].startswith("board default: monthly budget reached") for h in result.held)


def test_task_over_its_own_limit_is_blocked_with_the_reason(khome, clock, user):
    configure(khome, {"coder": {"command": agent("exit", "3")}}, failure_limit=5)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="pricey", actor=user, assignee="coder", max_cost_usd=1.0).task
    d = Dispatcher(ctx)
    spawned = d.tick().spawned
    _spend(ctx, t.id, user, 1.2)  # reported while the attempt runs: it is not stopped
    _finish(ctx, spawned)
    result = d.tick()
    assert result.crashed == [t.id] and result.cost_limit_blocked == [t.id] and result.spawned == []
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.BLOCKED
    blocked = [e for e in tasks.show(ctx, "default", t.id).events if e.kind == "blocked"]
    assert blocked[-1].payload["reason"].startswith(
        "task cost limit reached: spent $1.20 of its max_cost_usd $1.00")
    # Raising the limit and unblocking lets it go on.
    tasks.edit(ctx, "default", t.id, max_cost_usd=5)
    assert usage_svc.for_task(ctx, "default", t.id)["max_cost_usd"] == 5.0


def test_provider_shares_a_cap_and_a_rate_limit_cools_down_all_its_profiles(khome, clock, user):
    configure(khome, {"coder": {"command": agent("exit", "75")}, "reviewer": {"command": agent("complete")},
                      "outsider": {"command": agent("complete")}},
              {"providers": {"anthropic": {"profiles": ["coder", "reviewer"], "max_concurrency": 1}}},
              rate_limit_cooldown_seconds=300)
    ctx = fake_ctx(khome, clock)
    c = tasks.create(ctx, "default", title="code", actor=user, assignee="coder", priority=2).task
    r = tasks.create(ctx, "default", title="review", actor=user, assignee="reviewer", priority=1).task
    o = tasks.create(ctx, "default", title="elsewhere", actor=user, assignee="outsider").task
    d = Dispatcher(ctx)
    first = d.tick()
    assert {s["id"] for s in first.spawned} == {c.id, o.id}
    assert first.held == [{"id": r.id, "assignee": "reviewer", "kind": "provider_max_concurrency",
                           "reason": "provider anthropic is at its max_concurrency of 1"}]
    _finish(ctx, first.spawned)
    second = d.tick()
    assert second.rate_limited == [c.id]
    kinds = {h["id"]: h["kind"] for h in second.held}
    assert kinds == {c.id: "provider_cooldown", r.id: "provider_cooldown"}
    assert "cooling down after a rate limit" in second.held[0]["reason"]
    clock.advance(301)
    third = d.tick()
    assert len(third.spawned) == 1 and third.spawned[0]["id"] in (c.id, r.id)
    _finish(ctx, third.spawned)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dry_run_reports_holds_without_notifying(khome, clock, user):
    configure(khome, {"coder": {"command": agent("complete")}},
              {"budgets": {"profiles": {"coder": {"daily_usd": 0}}}})
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="t", actor=user, assignee="coder").task
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="9")
    result = Dispatcher(ctx).tick(dry_run=True)
    assert [h["id"] for h in result.held] == [t.id] and result.spawned == []
    assert _budget_deliveries(ctx) == []
    out = khome.cli("dispatch", "--dry-run").stdout
    assert f"{t.id}: held (profile coder: daily budget reached ($0.00 of $0.00)" in out
    assert "Waiting: profile coder: daily budget reached" in khome.cli("show", t.id).stdout
