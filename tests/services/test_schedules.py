"""Recurring schedules over a simulated week (fake clock): downtime, a restart, two dispatchers."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agentkanban.errors import ValidationError
from agentkanban.services import open_ctx, schedules, tasks, transitions
from agentkanban.store import engine as store_engine

from .helpers import BOARD

BERLIN = ZoneInfo("Europe/Berlin")
STEP = 600.0  # the dispatcher's pass, every ten simulated minutes


def at(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()


def occurrence_keys(ctx) -> list[str]:
    found = tasks.list_tasks(ctx, BOARD, include_archived=True)
    return sorted(t.idempotency_key or "" for t in found)


def key(sid: str, *when: int) -> str:
    return f"schedule:{sid}:{int(at(*when))}"


def run_until(ctx, clock, end: float, *, dispatchers: int = 1) -> None:
    """Advance the clock to ``end`` in passes; each pass fires from ``dispatchers`` threads at once."""
    while clock.t < end:
        clock.advance(min(STEP, end - clock.t))
        if dispatchers == 1:
            schedules.fire_due(ctx)
            continue
        barrier = threading.Barrier(dispatchers)

        def one(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            schedules.fire_due(ctx)

        threads = [threading.Thread(target=one) for _ in range(dispatchers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def test_week_with_downtime_restart_and_two_dispatchers(ctx, clock, settings, user) -> None:
    clock.t = at(2026, 3, 23, 8, 0)  # Monday; clocks change to summer time on Sunday the 29th
    s = schedules.add(ctx, BOARD, title="Triage new issues", cron="0 9 * * MON-FRI",
                      tz="Europe/Berlin", assignee="triager", priority=3)
    assert s["next_at"] == at(2026, 3, 23, 9, 0)
    run_until(ctx, clock, at(2026, 3, 24, 12, 0), dispatchers=2)  # Mon, Tue: two at every pass
    assert occurrence_keys(ctx) == [key(s["id"], 2026, 3, 23, 9, 0), key(s["id"], 2026, 3, 24, 9, 0)]
    # Down from Tuesday noon to Friday 08:00: Wednesday's and Thursday's occurrences are missed.
    clock.t = at(2026, 3, 27, 8, 0)
    store_engine.close_all()
    restarted = open_ctx(settings, clock=clock)
    run_until(restarted, clock, at(2026, 3, 30, 9, 30))  # on to the next Monday, in summer time
    expected = [key(s["id"], 2026, 3, d, 9, 0) for d in (23, 24, 26, 27, 30)]
    assert occurrence_keys(restarted) == sorted(expected)  # latest missed only: Thursday, not Wednesday
    made = tasks.list_tasks(restarted, BOARD)
    assert {(t.title, t.assignee, t.priority, t.created_by) for t in made} == {
        ("Triage new issues", "triager", 3, f"schedule:{s['id']}")}
    # Firing again at the same moment (another restart) creates nothing.
    assert schedules.fire_due(restarted) == []
    [row] = schedules.list_schedules(restarted, BOARD)
    assert row["last_occurrence"] == at(2026, 3, 30, 9, 0)
    assert row["next_at"] == at(2026, 3, 31, 9, 0)


@pytest.mark.parametrize("policy,expected_days", [("all", [23, 24, 25, 26]), ("none", [23])])
def test_catch_up_policies(ctx, clock, policy, expected_days) -> None:
    clock.t = at(2026, 3, 23, 8, 0)
    s = schedules.add(ctx, BOARD, title="Report", cron="0 9 * * *", tz="Europe/Berlin",
                      catch_up=policy)
    run_until(ctx, clock, at(2026, 3, 23, 10, 0))
    clock.t = at(2026, 3, 26, 12, 0)  # down for three days
    schedules.fire_due(ctx)
    assert occurrence_keys(ctx) == sorted(key(s["id"], 2026, 3, d, 9, 0) for d in expected_days)


def test_skip_while_previous_is_open(ctx, clock, user) -> None:
    clock.t = at(2026, 3, 23, 8, 0)
    s = schedules.add(ctx, BOARD, title="Nightly", cron="0 9 * * *", tz="Europe/Berlin",
                      skip_if_open=True)
    run_until(ctx, clock, at(2026, 3, 24, 10, 0))  # Tuesday's is skipped: Monday's is open
    [first] = tasks.list_tasks(ctx, BOARD)
    assert schedules.list_schedules(ctx, BOARD)[0]["skipped"] == 1
    transitions.complete(ctx, BOARD, first.id, actor=user, summary="ok")
    run_until(ctx, clock, at(2026, 3, 25, 10, 0))
    assert occurrence_keys(ctx) == sorted([key(s["id"], 2026, 3, 23, 9, 0),
                                           key(s["id"], 2026, 3, 25, 9, 0)])


def test_pause_resume_and_remove(ctx, clock) -> None:
    clock.t = at(2026, 3, 23, 8, 0)
    s = schedules.add(ctx, BOARD, title="Tick", cron="*/30 * * * *")
    schedules.set_paused(ctx, BOARD, s["id"], True)
    run_until(ctx, clock, at(2026, 3, 23, 12, 0))
    assert tasks.list_tasks(ctx, BOARD) == []
    resumed = schedules.set_paused(ctx, BOARD, s["id"], False)
    assert resumed["next_at"] == at(2026, 3, 23, 12, 30)  # nothing from the paused hours
    run_until(ctx, clock, at(2026, 3, 23, 12, 40))
    assert len(tasks.list_tasks(ctx, BOARD)) == 1
    schedules.remove(ctx, BOARD, s["id"])
    assert schedules.list_schedules(ctx, BOARD) == []


@pytest.mark.parametrize("kw,field", [
    ({"cron": "0 9 * *"}, "cron"),
    ({"cron": "61 9 * * *"}, "cron"),
    ({"cron": "0 9 * * *", "tz": "Mars/Olympus"}, "tz"),
    ({"cron": "0 9 * * *", "catch_up": "sometimes"}, "catch_up"),
    ({"cron": "0 9 * * *", "workspace": "dir:relative"}, "workspace"),
])
def test_bad_input_names_the_field_and_stores_nothing(ctx, kw, field) -> None:
    with pytest.raises(ValidationError) as err:
        schedules.add(ctx, BOARD, title="x", **kw)
    assert field in err.value.message
    assert schedules.list_schedules(ctx, None) == []
