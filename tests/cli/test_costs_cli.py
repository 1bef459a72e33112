"""`kanban usage`, `kanban usage report`, `kanban session`, `heartbeat --data` and task limits."""

from __future__ import annotations

import pytest

from agentkanban.config import load_settings
from agentkanban.services import open_ctx, runs


def _worker_env(kanban, home, db_url, assignee="coder"):
    tid = kanban("create", "t", "--assignee", assignee, "--json").json()["task"]["id"]
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    claim = runs.claim(ctx, "default", tid, profile=assignee, lock="h:1:x", ttl=900)
    return tid, {"KANBAN_TASK_ID": tid, "KANBAN_RUN_ID": str(claim.run_id),
                 "KANBAN_RUN_TOKEN": claim.token, "KANBAN_PROFILE": assignee}


@pytest.mark.parametrize("args,needle", [
    (["--input-tokens", "-5"], "between 0"),
    (["--input-tokens", "99999999999999"], "between 0"),
    (["--cost-usd", "a lot"], "number of dollars"),
    (["--output-tokens", "3.5"], "whole number"),
    ([], "nothing to record"),
])
def test_bad_usage_exits_2_and_stores_nothing(kanban, home, db_url, args, needle):
    tid, env = _worker_env(kanban, home, db_url)
    res = kanban("usage", *args, env=env)
    assert res.code == 2 and needle in res.err
    assert kanban("usage", "report", "--json").json()["total"]["reports"] == 0


def test_usage_session_checkpoint_and_report(kanban, home, db_url):
    tid, env = _worker_env(kanban, home, db_url)
    assert kanban("heartbeat", "--note", "half way", "--data", '{"files": 3}', env=env).code == 0
    res = kanban("session", "sess-42", env=env)
    assert res.code == 0 and "session sess-42" in res.out
    bad = kanban("session", "bad\x07id", env=env)
    assert bad.code == 2 and "control characters" in bad.err
    res = kanban("usage", "--input-tokens", "100", "--output-tokens", "20", "--cost-usd", "0.5",
                 "--model", "m1", "--json", env=env)
    assert res.code == 0 and res.json()["task_total"]["cost_usd"] == 0.5
    report = kanban("usage", "report", "--by", "profile", "--json").json()
    assert report["rows"][0]["profile"] == "coder" and report["rows"][0]["tokens"] == 120
    text = kanban("usage", "report", "--by", "day")
    assert text.code == 0 and "$0.5000" in text.out
    assert kanban("usage", "report", "--by", "tenant").code == 2
    show = kanban("show", tid)
    assert show.code == 0  # the running attempt's own checkpoint is not a prior attempt
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    runs.end_attempt(ctx, "default", tid, int(env["KANBAN_RUN_ID"]), outcome="crashed", error="boom",
                     count_failure=True, failure_limit=5)
    doc = kanban("context", tid).out
    assert "_last checkpoint_: half way" in doc and '"files": 3' in doc and "_agent session_: sess-42" in doc
    assert "$0.5000" in doc


def test_task_limit_on_create_and_edit(kanban):
    res = kanban("create", "t", "--max-cost-usd", "abc")
    assert res.code == 2 and "number of dollars" in res.err
    assert kanban("list", "--json").json()["tasks"] == []
    tid = kanban("create", "t", "--max-cost-usd", "3", "--json").json()["task"]["id"]
    assert kanban("edit", tid, "--max-cost-usd", "-2").code == 2
    assert kanban("edit", tid, "--max-cost-usd", "9").code == 0
    assert kanban("edit", tid, "--max-cost-usd", "none").code == 0
