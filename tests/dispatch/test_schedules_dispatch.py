"""Schedules fire from the dispatcher's pass: once per occurrence, even with two dispatchers."""

from __future__ import annotations

from agentkanban.dispatch.dispatcher import Dispatcher
from agentkanban.services import schedules, tasks

from .conftest import fake_ctx


def test_dispatcher_pass_fires_due_schedules_once(khome, clock) -> None:
    khome.configure({})
    ctx = fake_ctx(khome, clock)
    s = schedules.add(ctx, "default", title="Hourly sweep", cron="0 * * * *", assignee="nobody")
    first, second = Dispatcher(ctx), Dispatcher(ctx)
    first.tick()
    assert tasks.list_tasks(ctx, "default") == []  # not due yet
    clock.t = s["next_at"] + 1
    first.tick()
    second.tick()
    made = tasks.list_tasks(ctx, "default")
    assert [(t.title, t.idempotency_key) for t in made] == [
        ("Hourly sweep", f"schedule:{s['id']}:{int(s['next_at'])}")]
    first.tick(dry_run=True)  # a dry run creates nothing
    clock.t += 3600
    first.tick(dry_run=True)
    assert len(tasks.list_tasks(ctx, "default")) == 1
    second.tick()
    assert len(tasks.list_tasks(ctx, "default")) == 2
