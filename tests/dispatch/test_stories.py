"""The four stories of the issue, each with a real daemon and real worker processes."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.services import runs as runs_svc
from agentkanban.services import tasks

from .conftest import agent, wait_for

CLI_WORKER = str(Path(__file__).parent / "workers" / "cli_worker.sh")


def _status(home, tid):
    return tasks.get(home.ctx, "default", tid).status


def max_overlap(intervals):
    """Most attempts open at the same moment, from (start, end) pairs."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda p: (p[0], p[1]))
    best = cur = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


# The backends are exercised by the resilience tests; this one costs a dozen CLI processes.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dependency_chain_hands_off_summary_and_metadata(khome, daemon, user):
    # The workers use nothing but the `kanban` CLI: show, heartbeat, comment, complete.
    khome.configure({"coder": {"command": [CLI_WORKER], "env": {"KANBAN_PY": sys.executable},
                               "max_concurrency": 3}})
    ctx = khome.ctx
    a = tasks.create(ctx, "default", title="design", actor=user, assignee="coder").task
    b = tasks.create(ctx, "default", title="build", actor=user, assignee="coder", parents=[a.id]).task
    c = tasks.create(ctx, "default", title="ship", actor=user, assignee="coder", parents=[b.id]).task
    assert (a.status, b.status, c.status) == (Status.READY, Status.TODO, Status.TODO)
    d = daemon()
    wait_for(lambda: _status(khome, c.id) is Status.DONE, what="the chain to finish")
    from agentkanban.services import health

    status = health.dispatcher_status(ctx)
    assert status is not None and status["alive"] and status["pid"] == d.proc.pid
    d.stop()
    assert d.proc.returncode == 0  # SIGTERM stops the loop cleanly
    ra, rb, rc = (runs_svc.list_runs(ctx, "default", t.id) for t in (a, b, c))
    # Only one at a time: each starts after its parent's attempt ended.
    assert [len(r) for r in (ra, rb, rc)] == [1, 1, 1]
    assert rb[0].started_at >= ra[0].ended_at and rc[0].started_at >= rb[0].ended_at
    assert all(r[0].outcome == "completed" for r in (ra, rb, rc))
    assert rb[0].metadata == {"task": b.id, "run": rb[0].id}
    comments = tasks.show(ctx, "default", b.id).comments
    assert [(c.author, c.body) for c in comments] == [("coder", f"working in {b.id}")]
    # The second worker printed its context: the first one's summary and metadata were in it.
    from agentkanban.dispatch.logs import read_log

    log_b = read_log(ctx, "default", b.id)["content"]
    assert "## Parent task results" in log_b
    assert f"finished {a.id}" in log_b
    assert f'"task": "{a.id}"' in log_b and f'"run": {ra[0].id}' in log_b


# Heavy (36 worker processes); the caps on PostgreSQL are covered by the two-daemon test.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fleet_respects_max_concurrency(khome, daemon, user):
    caps = {"alpha": 2, "beta": 3, "gamma": 2}
    khome.configure({name: {"command": agent("slow", "0.2"), "max_concurrency": cap}
                     for name, cap in caps.items()}, max_in_progress=5)
    ctx = khome.ctx
    ids = [tasks.create(ctx, "default", title=f"{p} {i}", actor=user, assignee=p).task.id
           for p in caps for i in range(12)]
    daemon()
    wait_for(lambda: all(_status(khome, t) is Status.DONE for t in ids), timeout=150,
             what="36 tasks to finish")
    by_profile: dict[str, list[tuple[float, float]]] = {p: [] for p in caps}
    every = []
    for tid in ids:
        runs = runs_svc.list_runs(ctx, "default", tid)
        assert [r.outcome for r in runs] == ["completed"]
        by_profile[runs[0].profile].append((runs[0].started_at, runs[0].ended_at))
        every.append((runs[0].started_at, runs[0].ended_at))
    for p, cap in caps.items():
        assert len(by_profile[p]) == 12
        assert 1 <= max_overlap(by_profile[p]) <= cap, p
    assert max_overlap(every) <= 5


def test_sigkilled_worker_is_retried_and_timeout_is_recorded(khome, daemon, user):
    khome.configure({"flaky": {"command": agent("once-hang")},
                     "stuck": {"command": agent("hang"), "max_runtime": "2s"}}, failure_limit=3)
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="survive a kill", actor=user, assignee="flaky").task
    slow = tasks.create(ctx, "default", title="never ends", actor=user, assignee="stuck",
                        max_retries=1).task
    daemon()
    pid = wait_for(lambda: tasks.get(ctx, "default", t.id).worker_pid, what="the worker to start")
    wait_for(lambda: (khome.path / "boards/default/workspaces" / t.id / "attempted").exists(),
             what="the first attempt to be under way")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _status(khome, t.id) is Status.DONE, what="the retry to complete")
    history = runs_svc.list_runs(ctx, "default", t.id)
    assert [r.outcome for r in history] == ["crashed", "completed"]
    assert "SIGKILL" in (history[0].error or "")
    wait_for(lambda: _status(khome, slow.id) is Status.BLOCKED, what="the runaway worker to time out")
    stuck_runs = runs_svc.list_runs(ctx, "default", slow.id)
    assert [r.outcome for r in stuck_runs] == ["timed_out"]
    assert "max runtime" in (stuck_runs[0].error or "")
    assert stuck_runs[0].ended_at - stuck_runs[0].started_at >= 2


def test_missing_command_gives_up_with_the_error_visible(khome, daemon, user):
    khome.configure({"ghost": {"command": ["no-such-agent-cli", "{task_id}"]}}, failure_limit=2)
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="cannot start", actor=user, assignee="ghost").task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.BLOCKED, what="the task to give up")
    detail = tasks.show(ctx, "default", t.id)
    assert [r.outcome for r in detail.runs] == ["spawn_failed", "spawn_failed"]
    assert all("command not found: 'no-such-agent-cli'" in (r.error or "") for r in detail.runs)
    assert "no-such-agent-cli" in (detail.task.last_failure_error or "")
    gave_up = [e for e in detail.events if e.kind == "gave_up"]
    assert len(gave_up) == 1 and "no-such-agent-cli" in gave_up[0].payload["error"]
    assert detail.task.consecutive_failures == 2
    shown = khome.cli("show", t.id).stdout
    assert "no-such-agent-cli" in shown and "spawn failed" in shown and "gave up" in shown
    runs_out = khome.cli("runs", t.id, "--json").stdout
    assert runs_out.count("command not found: 'no-such-agent-cli'") == 2


@pytest.mark.parametrize("code,outcome", [(0, "protocol_violation"), (3, "crashed")])
def test_exit_status_is_classified(khome, daemon, user, code, outcome):
    khome.configure({"quitter": {"command": agent("exit", str(code))}}, failure_limit=1)
    t = tasks.create(khome.ctx, "default", title="quits", actor=user, assignee="quitter").task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.BLOCKED, what="the attempt to be settled")
    run = runs_svc.list_runs(khome.ctx, "default", t.id)[0]
    assert run.outcome == outcome
    assert (f"exited with code {code}" if code else "without completing") in run.error
