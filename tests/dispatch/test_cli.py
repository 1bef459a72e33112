"""The operator side of the CLI: dispatch, log, reclaim, reassign."""

from __future__ import annotations

import json

import pytest

from agentkanban.dispatch import procs
from agentkanban.domain.statuses import Status
from agentkanban.services import runs as runs_svc
from agentkanban.services import tasks

from .conftest import agent, wait_for

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_dispatch_json_dry_run_then_real_pass_and_log(khome, user):
    khome.configure({"coder": {"command": agent("complete")}})
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="via cli", actor=user, assignee="coder").task
    loose = tasks.create(ctx, "default", title="loose", actor=user).task
    dry = json.loads(khome.cli("dispatch", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and [s["id"] for s in dry["spawned"]] == [t.id]
    assert dry["skipped_unassigned"] == [loose.id]
    assert tasks.get(ctx, "default", t.id).status is Status.READY
    out = khome.cli("dispatch").stdout
    assert f"spawned {t.id} -> coder" in out and "unassigned (stay ready)" in out
    wait_for(lambda: tasks.get(ctx, "default", t.id).status is Status.DONE, what="the worker")
    log = khome.cli("log", t.id).stdout
    assert "completed" in log and f"# Kanban task {t.id}" in log
    tail = khome.cli("log", t.id, "--tail", "10")
    assert tail.stdout.endswith("completed\n") and "showing the last 10" in tail.stderr
    as_json = json.loads(khome.cli("log", t.id, "--json", "--tail", "10").stdout)
    assert as_json["truncated"] is True and as_json["exists"] is True


def test_reassign_with_reclaim_stops_the_worker_and_resets_failures(khome, user):
    khome.configure({"sleeper": {"command": agent("hang")}, "other": {"command": agent("complete")}})
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="move me", actor=user, assignee="sleeper").task
    pid = json.loads(khome.cli("dispatch", "--json").stdout)["spawned"][0]["pid"]
    wait_for(lambda: procs.is_worker_of(pid, tasks.get(ctx, "default", t.id).current_run_id),
             what="the worker to exec")
    refused = khome.cli("reassign", t.id, "other", check=False)
    assert refused.returncode == 1 and "--reclaim" in refused.stderr
    out = khome.cli("reassign", t.id, "other", "--reclaim").stdout
    assert "assigned to other, ready" in out and "stopped" in out
    assert not procs.pid_alive(pid)
    task = tasks.get(ctx, "default", t.id)
    assert task.assignee == "other" and task.status is Status.READY and task.consecutive_failures == 0
    assert runs_svc.list_runs(ctx, "default", t.id)[0].outcome == "reclaimed"
    warn = khome.cli("reassign", t.id, "nobody-here").stdout
    assert "no profile named" in warn
    again = khome.cli("reclaim", t.id, check=False)
    assert again.returncode == 1 and "not running" in again.stderr
