"""Leases that cannot leak: killed daemons, two daemons, stale workers, ended attempts."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from agentkanban.dispatch import procs
from agentkanban.domain.statuses import Status
from agentkanban.services import dispatching, health, tasks, transitions
from agentkanban.services import runs as runs_svc

from .conftest import AGENT, agent, wait_for
from .test_stories import max_overlap


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def _lines(path: Path, kind: str) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line.split()[1] for line in path.read_text().splitlines() if line.startswith(kind))


def _all_done(ctx, ids):
    return all(tasks.get(ctx, "default", t).status is Status.DONE for t in ids)


def test_daemon_killed_mid_pass_loses_nothing_and_runs_nothing_twice(khome, daemon, user):
    record = khome.path / "record.txt"
    khome.configure({"w": {"command": agent("record", str(record)), "max_concurrency": 6}},
                    max_in_progress=6)
    ctx = khome.ctx
    ids = [tasks.create(ctx, "default", title=f"job {i}", actor=user, assignee="w").task.id
           for i in range(18)]
    rng = random.Random(7)
    kills = 0
    d = daemon(interval=0.3)
    while kills < 6 and not _all_done(ctx, ids):
        # Once the loop is up, a pass that starts six workers takes a good fraction of a second:
        # a kill soon after lands before, inside or after it.
        wait_for(lambda d=d: "dispatcher running" in d.log.read_text(), what="the daemon to start")
        time.sleep(rng.uniform(0.0, 0.5))
        d.kill9()
        kills += 1
        d = daemon(interval=0.3)
    wait_for(lambda: _all_done(ctx, ids), timeout=120, what="every task to be done after the kills")
    assert kills >= 3
    starts, dones = _lines(record, "start"), _lines(record, "done")
    for tid in ids:
        history = runs_svc.list_runs(ctx, "default", tid)
        outcomes = [r.outcome for r in history]
        assert outcomes.count("completed") == 1, (tid, outcomes)
        # The only other way an attempt may end here: the daemon died before starting a worker.
        assert set(outcomes) <= {"completed", "reclaimed"}, (tid, outcomes)
        assert starts[tid] == 1 and dones[tid] == 1, (tid, starts[tid], dones[tid])
    assert dispatching.open_runs(ctx, "default") == []


def test_two_daemons_never_double_claim(khome, daemon, user):
    record = khome.path / "record.txt"
    caps = {"p": 2, "q": 2}
    khome.configure({n: {"command": agent("record", str(record)), "max_concurrency": c}
                     for n, c in caps.items()}, max_in_progress=8)
    ctx = khome.ctx
    ids = [tasks.create(ctx, "default", title=f"job {i}", actor=user, assignee="pq"[i % 2]).task.id
           for i in range(12)]
    daemon(interval=0.3)
    daemon(interval=0.3)
    wait_for(lambda: _all_done(ctx, ids), timeout=150, what="every task to be done by two daemons")
    starts = _lines(record, "start")
    spans: dict[str, list[tuple[float, float]]] = {"p": [], "q": []}
    for tid in ids:
        history = runs_svc.list_runs(ctx, "default", tid)
        assert [r.outcome for r in history] == ["completed"], tid
        assert starts[tid] == 1
        spans[history[0].profile].append((history[0].started_at, history[0].ended_at))
    for p, cap in caps.items():
        assert max_overlap(spans[p]) <= cap


def test_stale_worker_cannot_complete_the_new_attempt(khome, daemon, user):
    khome.configure({"sleeper": {"command": agent("hang")}})
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="reclaimed mid-way", actor=user, assignee="sleeper").task
    daemon()
    first = wait_for(lambda: tasks.get(ctx, "default", t.id).worker_pid, what="the first worker")
    wait_for(lambda: "KANBAN_RUN_TOKEN" in _environ(first), what="the worker to exec")
    stale_env = _environ(first)
    out = khome.cli("reclaim", t.id, "--reason", "operator test").stdout
    assert "reclaimed" in out and "stopped" in out
    assert not procs.pid_alive(first)
    second = wait_for(lambda: (tasks.get(ctx, "default", t.id).worker_pid or 0) not in (0, first)
                      and tasks.get(ctx, "default", t.id), what="the second attempt")
    assert str(second.current_run_id) != stale_env["KANBAN_RUN_ID"]
    # The old worker comes back to life (a duplicate, a paused VM...) and tries to finish.
    res = subprocess.run([sys.executable, AGENT, "complete"], env=stale_env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode != 0
    assert "no longer current" in res.stderr
    now = tasks.get(ctx, "default", t.id)
    assert now.status is Status.RUNNING and now.current_run_id == second.current_run_id
    hb = khome.cli("heartbeat", extra_env={k: v for k, v in stale_env.items() if k.startswith("KANBAN_")},
                   check=False)
    assert hb.returncode == 1 and "no longer current" in hb.stderr
    # A person archives the task: the dispatcher stops the worker whose attempt just ended.
    transitions.archive(ctx, "default", t.id, actor=user)
    wait_for(lambda: not procs.pid_alive(second.worker_pid), what="the dispatcher to stop the worker")
    outcomes = [r.outcome for r in runs_svc.list_runs(ctx, "default", t.id)]
    assert outcomes == ["reclaimed", "reclaimed"]


def test_worker_may_heartbeat_only_its_own_task(khome, daemon, user):
    khome.configure({"sleeper": {"command": agent("hang")}})
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="mine", actor=user, assignee="sleeper").task
    other = tasks.create(ctx, "default", title="not mine", actor=user).task
    daemon()
    pid = wait_for(lambda: tasks.get(ctx, "default", t.id).worker_pid, what="the worker")
    wait_for(lambda: "KANBAN_RUN_TOKEN" in _environ(pid), what="the worker to exec")
    env = {k: v for k, v in _environ(pid).items() if k.startswith("KANBAN_")}
    ok = khome.cli("heartbeat", "--note", "halfway", extra_env=env)
    assert t.id in ok.stdout
    events = tasks.show(ctx, "default", t.id).events
    assert any(e.kind == "heartbeat" and (e.payload or {}).get("note") == "halfway" for e in events)
    refused = khome.cli("heartbeat", other.id, extra_env=env, check=False)
    assert refused.returncode == 1 and "its own task" in refused.stderr
    assert os.path.samefile(_environ_cwd(pid), env["KANBAN_WORKSPACE"])


def _environ_cwd(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/cwd")


def test_daemon_wakes_on_work_written_by_another_process(khome, daemon, user):
    khome.configure({"coder": {"command": agent("complete")}}, interval_seconds=120)
    ctx = khome.ctx
    d = daemon(interval=120)
    wait_for(lambda: "dispatcher running" in d.log.read_text(), what="the daemon to start")
    wait_for(lambda: (s := health.dispatcher_status(ctx)) and s["pid"] == d.proc.pid,
             what="its first pass")
    t = tasks.create(ctx, "default", title="new work", actor=user, assignee="coder").task
    # Far sooner than the 120 s interval: the daemon saw the new event id.
    wait_for(lambda: tasks.get(ctx, "default", t.id).status is Status.DONE, timeout=40,
             what="the task to be picked up and done")
