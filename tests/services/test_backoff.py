"""Retries wait: capped exponential backoff with jitter per failure class, shown to readers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentkanban.config import Backoff
from agentkanban.domain.models import (
    OUTCOME_CRASHED,
    OUTCOME_RECLAIMED,
    OUTCOME_SPAWN_FAILED,
    OUTCOME_TIMED_OUT,
)
from agentkanban.domain.statuses import Status
from agentkanban.services import backoff, runs, transitions, views

from .helpers import BOARD, claim, make


def fail(ctx, task_id, outcome=OUTCOME_CRASHED, *, error="worker exited with code 1", count=True):
    c = claim(ctx, task_id)
    return runs.end_attempt(ctx, BOARD, task_id, c.run_id, outcome=outcome, error=error,
                            count_failure=count, failure_limit=10)


def test_delay_doubles_is_capped_and_jitter_is_fixed_per_attempt():
    rule = Backoff(base_seconds=10, max_seconds=60, jitter=0)
    assert [backoff.delay(rule, n, seed=1) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    jittery = Backoff(base_seconds=100, max_seconds=1000, jitter=0.5)
    values = {backoff.delay(jittery, 1, seed=s) for s in range(50)}
    assert all(50 <= v <= 100 for v in values) and len(values) > 40  # spread out...
    assert backoff.delay(jittery, 1, seed=7) == backoff.delay(jittery, 1, seed=7)  # ...but stable


@pytest.mark.parametrize("outcome,cls", [(OUTCOME_CRASHED, "crashed"), (OUTCOME_TIMED_OUT, "timed_out"),
                                         (OUTCOME_SPAWN_FAILED, "spawn_failed"),
                                         (OUTCOME_RECLAIMED, "lost_runner")])
def test_a_failed_task_waits_per_failure_class_and_longer_each_time(ctx, clock, outcome, cls):
    rule = getattr(ctx.settings.dispatch.retry_backoff, cls)
    t = make(ctx, Status.READY)
    fail(ctx, t.id, outcome)
    first = backoff.waiting(ctx, [t.id])[t.id]
    assert first.failure_class == cls and first.failures == 1
    assert clock() + rule.base_seconds * (1 - rule.jitter) <= first.at <= clock() + rule.base_seconds
    clock.advance(first.at - clock() + 0.001)
    assert backoff.waiting(ctx, [t.id]) == {}  # its time has come
    fail(ctx, t.id, outcome)
    second = backoff.waiting(ctx, [t.id])[t.id]
    assert second.failures == 2 and second.at - clock() >= 2 * rule.base_seconds * (1 - rule.jitter)


def test_an_infrastructure_failure_waits_but_is_not_counted(ctx, clock):
    t = make(ctx, Status.READY)
    after = fail(ctx, t.id, OUTCOME_SPAWN_FAILED, count=False,
                 error=backoff.INFRASTRUCTURE + "could not start 'agent': Too many open files")
    assert after is not None and after.consecutive_failures == 0
    retry = backoff.waiting(ctx, [t.id])[t.id]
    assert retry.failure_class == "infrastructure" and retry.failures == 0


def test_an_operator_unblocking_or_reassigning_skips_the_wait(ctx, user, clock):
    t = make(ctx, Status.READY)
    fail(ctx, t.id)
    assert t.id in backoff.waiting(ctx, [t.id])
    from agentkanban.services import dispatching

    dispatching.reassign(ctx, BOARD, t.id, "other", actor=user)
    assert backoff.waiting(ctx, [t.id]) == {}
    fail(ctx, t.id)
    transitions.block(ctx, BOARD, t.id, actor=user, reason="look")
    transitions.unblock(ctx, BOARD, t.id, actor=user)
    assert backoff.waiting(ctx, [t.id]) == {}


def test_the_card_and_the_detail_say_when(ctx, clock):
    t = make(ctx, Status.READY)
    other = make(ctx, Status.READY, title="fine")
    fail(ctx, t.id)
    at = backoff.waiting(ctx, [t.id])[t.id].at
    ready = next(c for c in views.board_view(ctx, BOARD)["columns"] if c["name"] == "ready")["tasks"]
    cards = {c["id"]: c for c in ready}
    assert cards[t.id]["next_attempt_at"] == at
    assert "next_attempt_at" not in cards[other.id]


def test_rate_limits_keep_their_fixed_cool_down(ctx, clock):
    ctx.settings = replace(ctx.settings, dispatch=replace(ctx.settings.dispatch,
                                                           rate_limit_cooldown_seconds=120))
    t = make(ctx, Status.READY)
    fail(ctx, t.id, "rate_limited", count=False, error="rate limited")
    assert backoff.waiting(ctx, [t.id])[t.id].at == pytest.approx(clock() + 120)
