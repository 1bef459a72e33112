"""Usage, sessions and checkpoints at the service layer: bad input is refused and stores nothing."""

from __future__ import annotations

import json

import pytest

from agentkanban.config import load_settings
from agentkanban.errors import Forbidden, ValidationError
from agentkanban.services import Actor, boards, context, runs, sessions, tasks
from agentkanban.services import usage as usage_svc
from agentkanban.services.history import SECTION_CAP
from agentkanban.store import usage as store_usage


@pytest.fixture
def claimed(ctx, user):
    boards.create(ctx, "default")
    t = tasks.create(ctx, "default", title="t", actor=user, assignee="coder").task
    claim = runs.claim(ctx, "default", t.id, profile="coder", lock="h:1:x", ttl=900)
    worker = Actor("coder", worker_task=t.id, run_id=claim.run_id, run_token=claim.token)
    return t, claim, worker


def _ledger(ctx):
    with ctx.store.read() as conn:
        return store_usage.report(conn, [])[0]["reports"]


@pytest.mark.parametrize("values,needle", [
    ({"input_tokens": -5}, "between 0"),
    ({"output_tokens": 10**12}, "between 0"),
    ({"input_tokens": "12abc"}, "whole number"),
    ({"input_tokens": 1.5}, "whole number"),
    ({"input_tokens": True}, "whole number"),
    ({"cost_usd": "cheap"}, "number of dollars"),
    ({"cost_usd": -1}, "between 0"),
    ({"cost_usd": float("nan")}, "between 0"),
    ({"cost_usd": 1e9}, "between 0"),
    ({"input_tokens": 0}, "nothing to record"),
    ({"input_tokens": 1, "model": "bad\nmodel"}, "printable"),
])
def test_bad_usage_is_refused_and_nothing_is_stored(ctx, claimed, values, needle):
    t, _claim, worker = claimed
    with pytest.raises(ValidationError, match=needle):
        usage_svc.record(ctx, "default", t.id, actor=worker, **values)
    assert _ledger(ctx) == 0


def test_a_worker_reports_only_for_its_own_attempt(ctx, claimed, user):
    t, claim, worker = claimed
    other = tasks.create(ctx, "default", title="o", actor=user).task
    with pytest.raises(Forbidden):
        usage_svc.record(ctx, "default", other.id, actor=worker, input_tokens=5)
    forged = Actor("coder", worker_task=t.id, run_id=claim.run_id, run_token="not-the-token")
    with pytest.raises(Forbidden):
        usage_svc.record(ctx, "default", t.id, actor=forged, input_tokens=5)
    assert _ledger(ctx) == 0
    out = usage_svc.record(ctx, "default", t.id, actor=worker, input_tokens="7", output_tokens=3)
    assert out["run_id"] == claim.run_id and out["task_total"]["input_tokens"] == 7


@pytest.mark.parametrize("sid", ["abc\x01def", "two words", "", " ", "x" * 257, "naïve", "$(reboot)",
                                 "a;b", "`id`", "x'y"])
def test_bad_session_ids_are_refused(ctx, claimed, sid):
    t, claim, worker = claimed
    with pytest.raises(ValidationError):
        sessions.report_session(ctx, "default", t.id, actor=worker, session_id=sid)
    with ctx.store.read() as conn:
        assert store_usage.states_for_task(conn, t.id) == {}


@pytest.mark.parametrize("data", ["{not json", json.dumps({"x": "y" * 20_000})])
def test_bad_checkpoint_data_is_refused_and_the_lease_untouched(ctx, claimed, data):
    t, _claim, worker = claimed
    before = tasks.get(ctx, "default", t.id).claim_expires
    with pytest.raises(ValidationError):
        runs.heartbeat(ctx, "default", t.id, actor=worker, note="n", data=data)
    assert tasks.get(ctx, "default", t.id).claim_expires == before
    with ctx.store.read() as conn:
        assert store_usage.states_for_task(conn, t.id) == {}


def test_report_rejects_unknown_groupings_and_days(ctx, claimed):
    with pytest.raises(ValidationError, match="cannot group usage by 'tenant'"):
        usage_svc.report(ctx, "tenant")
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        usage_svc.report(ctx, "day", since="yesterday")


@pytest.mark.parametrize("value", [0, -1, "abc", 10**9])
def test_task_limit_must_be_a_positive_amount(ctx, user, value):
    boards.create(ctx, "default")
    with pytest.raises(ValidationError):
        tasks.create(ctx, "default", title="t", actor=user, max_cost_usd=value)
    assert tasks.list_tasks(ctx, "default") == []


def test_task_limit_is_set_and_cleared_by_edit(ctx, user):
    boards.create(ctx, "default")
    t = tasks.create(ctx, "default", title="t", actor=user, max_cost_usd="2.5").task
    assert usage_svc.for_task(ctx, "default", t.id)["max_cost_usd"] == 2.5
    tasks.edit(ctx, "default", t.id, max_cost_usd=7)
    assert usage_svc.task_limit(ctx, t.id) == 7.0
    tasks.edit(ctx, "default", t.id, max_cost_usd="none")
    assert usage_svc.task_limit(ctx, t.id) is None


def test_history_stays_within_its_bound_newest_first(ctx, user, clock):
    boards.create(ctx, "default")
    t = tasks.create(ctx, "default", title="t", actor=user, assignee="coder", max_retries=99).task
    for i in range(40):
        claim = runs.claim(ctx, "default", t.id, profile="coder", lock="h:1:x", ttl=900)
        worker = Actor("coder", worker_task=t.id, run_id=claim.run_id, run_token=claim.token)
        runs.heartbeat(ctx, "default", t.id, actor=worker, note=f"checkpoint {i}", data={"i": i})
        sessions.settle(ctx, "default", claim.run_id, log_tail=f"tail-{i}\n" + "x" * 4000,
                        entries=[], session_id=None, source=None)
        runs.end_attempt(ctx, "default", t.id, claim.run_id, outcome="crashed", error=f"exit {i}",
                         count_failure=True, failure_limit=99)
        clock.advance(10)
    doc = context.build(ctx, "default", t.id)
    section = doc.split("## Prior attempts on this task (newest first)")[1]
    assert len(section) < SECTION_CAP + 6000
    assert section.index("checkpoint 39") < section.index("checkpoint 38")  # newest first
    assert "tail-39" in section and "checkpoint 0" not in section
    assert "- attempt 1: crashed" in section  # older ones shrink to one line


def test_unknown_usage_format_in_the_config_is_refused(home, db_url):
    (home / "config.yaml").write_text("profiles:\n  coder:\n    command: [x]\n    usage_from: gemini-xml\n")
    with pytest.raises(ValidationError, match="unknown usage format 'gemini-xml'; use one of: claude-json, codex-json"):
        load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
    (home / "config.yaml").write_text("budgets:\n  profiles:\n    coder: {daily_usd: -1}\n")
    with pytest.raises(ValidationError, match="daily_usd"):
        load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})

    (home / "config.yaml").write_text("providers:\n  a: {profiles: [coder]}\n  b: {profiles: [Coder]}\n")
    with pytest.raises(ValidationError, match="'Coder' is in both 'a' and 'b'"):
        load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
