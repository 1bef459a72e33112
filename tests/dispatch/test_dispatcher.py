"""One pass at a time, in this process, with a clock that moves only when told."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time

import pytest

from agentkanban.dispatch import Dispatcher, procs
from agentkanban.dispatch.dispatcher import substitute
from agentkanban.domain.statuses import Status
from agentkanban.services import runs as runs_svc
from agentkanban.services import tasks, transitions

from .conftest import agent, fake_ctx, wait_for


def _wait_exit(pid: int) -> None:
    wait_for(lambda: not procs.pid_alive(pid), timeout=60, what=f"pid {pid} to exit")


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_unassigned_and_unknown_profiles_stay_ready_and_are_reported(khome, clock, user):
    khome.configure({"coder": {"command": agent("complete")}})
    ctx = fake_ctx(khome, clock)
    loose = tasks.create(ctx, "default", title="nobody's", actor=user).task
    odd = tasks.create(ctx, "default", title="lane", actor=user, assignee="review-lane").task
    result = Dispatcher(ctx).tick()
    assert result.skipped_unassigned == [loose.id]
    assert result.skipped_nonspawnable == [{"id": odd.id, "assignee": "review-lane"}]
    assert result.spawned == [] and result.errors == []
    assert {tasks.get(ctx, "default", t.id).status for t in (loose, odd)} == {Status.READY}
    data = dataclasses.asdict(result)
    for key in ("reclaimed", "promoted", "spawned", "skipped_unassigned", "skipped_nonspawnable",
                "crashed", "timed_out", "rate_limited", "auto_blocked", "skipped_locked"):
        assert key in data


def test_dry_run_changes_nothing_and_max_spawn_is_a_budget(khome, clock, user):
    khome.configure({"Coder": {"command": agent("complete"), "max_concurrency": 5}})
    ctx = fake_ctx(khome, clock)
    ids = [tasks.create(ctx, "default", title=f"t{i}", actor=user, assignee="Coder",
                        priority=i).task.id for i in range(3)]
    dry = Dispatcher(ctx).tick(dry_run=True)
    assert [s["id"] for s in dry.spawned] == ids[::-1]  # highest priority first
    assert all(s["pid"] is None for s in dry.spawned)
    assert all(tasks.get(ctx, "default", t).status is Status.READY for t in ids)
    real = Dispatcher(ctx).tick(max_spawn=1)
    assert [s["id"] for s in real.spawned] == [ids[2]]
    assert [c["cap"] for c in real.skipped_capped] == ["max_spawn", "max_spawn"]
    _wait_exit(real.spawned[0]["pid"])


def test_priority_then_age_within_the_board_cap(khome, clock, user):
    khome.configure({"coder": {"command": agent("hang"), "max_concurrency": 9}}, max_in_progress=2)
    ctx = fake_ctx(khome, clock)
    old = tasks.create(ctx, "default", title="old", actor=user, assignee="coder").task
    clock.advance(1)
    new = tasks.create(ctx, "default", title="new", actor=user, assignee="coder").task
    urgent = tasks.create(ctx, "default", title="urgent", actor=user, assignee="coder", priority=5).task
    result = Dispatcher(ctx).tick()
    assert [s["id"] for s in result.spawned] == [urgent.id, old.id]
    assert result.skipped_capped == [{"id": new.id, "assignee": "coder", "cap": "max_in_progress"}]
    for s in result.spawned:
        procs.terminate(s["pid"], None, 0.5)


def test_worker_environment_argv_and_cwd(khome, clock, user, tmp_path):
    target = tmp_path / "project"
    khome.configure({"coder": {"command": [*agent("env"), "{task_id}@{board}", "{run_id}", "{workspace}",
                                           '{"json": {task_id}}'],
                               "env": {"EXTRA": "from-profile:{task_id}"}}})
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="env", actor=user, assignee="coder",
                     workspace=f"dir:{target}").task
    result = Dispatcher(ctx).tick()
    _wait_exit(result.spawned[0]["pid"])
    from agentkanban.dispatch.logs import read_log

    line = next(x for x in read_log(ctx, "default", t.id)["content"].splitlines() if x.startswith("ENV "))
    import json

    env = json.loads(line[4:])
    run_id = str(runs_svc.list_runs(ctx, "default", t.id)[0].id)
    assert env["KANBAN_TASK_ID"] == t.id and env["KANBAN_BOARD"] == "default"
    assert env["KANBAN_RUN_ID"] == run_id and env["has_token"]
    assert env["KANBAN_PROFILE"] == "coder" and env["EXTRA"] == f"from-profile:{t.id}"
    assert env["KANBAN_HOME"] == str(khome.path) and env["KANBAN_DATABASE_URL"] == khome.db_url
    assert env["KANBAN_WORKSPACE"] == str(target) and os.path.samefile(env["cwd"], target)
    assert env["argv"][2:] == [f"{t.id}@default", run_id, str(target), '{"json": ' + t.id + "}"]
    assert target.is_dir()


def test_rate_limited_exit_requeues_after_cooldown_without_counting(khome, clock, user):
    khome.configure({"busy": {"command": agent("exit", "75")}}, rate_limit_cooldown_seconds=120)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="quota", actor=user, assignee="busy").task
    d = Dispatcher(ctx)
    pid = d.tick().spawned[0]["pid"]
    wait_for(lambda: d.spawner.any_exited(), what="the worker to exit")
    result = d.tick()
    assert result.rate_limited == [t.id] and result.spawned == []
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.READY and task.consecutive_failures == 0
    assert "rate limited" in task.last_failure_error
    assert d.tick().cooling_down == [t.id]
    clock.advance(121)
    again = d.tick()
    assert [s["id"] for s in again.spawned] == [t.id] and again.spawned[0]["pid"] != pid
    _wait_exit(again.spawned[0]["pid"])


def test_expired_lease_of_a_remote_worker_is_reclaimed(khome, clock, user):
    khome.configure({}, claim_ttl_seconds=60)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="remote", actor=user, assignee="elsewhere").task
    claim = runs_svc.claim(ctx, "default", t.id, profile="elsewhere", lock="other-host:4242:ab", ttl=60)
    assert claim is not None
    runs_svc.set_worker(ctx, "default", t.id, claim.run_id, pid=4242)
    d = Dispatcher(ctx)
    assert d.tick().reclaimed == 0
    clock.advance(61)
    assert d.tick().reclaimed == 1
    run = runs_svc.list_runs(ctx, "default", t.id)[0]
    assert run.outcome == "reclaimed" and "lease expired" in run.error
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.READY and task.consecutive_failures == 1


def test_claim_orphaned_by_a_dead_dispatcher_is_requeued_without_a_failure(khome, clock, user):
    khome.configure({})
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="orphan", actor=user, assignee="x").task
    runs_svc.claim(ctx, "default", t.id, profile="x", lock=f"{procs.HOST}:{_dead_pid()}:zz", ttl=900)
    assert Dispatcher(ctx).tick().reclaimed == 1
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.READY and task.consecutive_failures == 0
    assert "before a worker was started" in runs_svc.list_runs(ctx, "default", t.id)[0].error


def _orphan_worker(ctx, user, title):
    """A task claimed by a dispatcher that died right after starting its worker."""
    t = tasks.create(ctx, "default", title=title, actor=user, assignee="x").task
    claim = runs_svc.claim(ctx, "default", t.id, profile="x", lock=f"{procs.HOST}:{_dead_pid()}:zz",
                           ttl=900)
    env = {**os.environ, "KANBAN_TASK_ID": t.id, "KANBAN_RUN_ID": str(claim.run_id)}
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env,
                              start_new_session=True)
    wait_for(lambda: procs.is_worker_of(worker.pid, claim.run_id), what="the worker to exec")
    return t, worker


def test_worker_started_by_a_dead_dispatcher_is_adopted_then_reaped(khome, clock, user):
    khome.configure({})
    ctx = fake_ctx(khome, clock)
    (crashing, w1), (reclaimed, w2) = _orphan_worker(ctx, user, "a"), _orphan_worker(ctx, user, "b")
    try:
        d = Dispatcher(ctx)
        result = d.tick()
        assert result.reclaimed == 0
        assert tasks.get(ctx, "default", crashing.id).worker_pid == w1.pid
        assert tasks.get(ctx, "default", reclaimed.id).worker_pid == w2.pid
        w1.kill()
        w1.wait()
        runs_svc.reclaim(ctx, "default", reclaimed.id, actor=user)  # e.g. from the web UI
        result = d.tick()
        assert result.crashed == [crashing.id] and result.terminated == [reclaimed.id]
        assert "exit status unknown" in runs_svc.list_runs(ctx, "default", crashing.id)[0].error
        assert tasks.get(ctx, "default", crashing.id).consecutive_failures == 1
        assert w2.wait(10) == -15
    finally:
        for w in (w1, w2):
            if w.poll() is None:
                w.kill()
                w.wait()


def test_max_runtime_terms_then_kills_the_whole_group(khome, clock, user, tmp_path):
    # The worker ignores SIGTERM and has a child of its own: both must go.
    script = tmp_path / "stubborn.sh"
    script.write_text("#!/bin/sh\ntrap '' TERM\nsleep 600 &\necho child $! > child.pid\nwait\n")
    script.chmod(0o755)
    khome.configure({"stubborn": {"command": [str(script)], "max_runtime": 30}},
                    kill_grace_seconds=0.2, failure_limit=1)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="runaway", actor=user, assignee="stubborn").task
    d = Dispatcher(ctx)
    pid = d.tick().spawned[0]["pid"]
    ws = khome.path / "boards/default/workspaces" / t.id
    child = int(wait_for(lambda: (ws / "child.pid").exists() and (ws / "child.pid").read_text().split()[1],
                         what="the grandchild"))
    clock.advance(31)
    assert d.tick().timed_out == []  # TERM sent, ignored
    time.sleep(0.3)
    d.tick()  # KILL for the group
    wait_for(lambda: not procs.pid_alive(pid) and not procs.pid_alive(child), what="the group to die")
    result = wait_for(lambda: d.tick().timed_out, what="the attempt to end")
    assert result == [t.id]
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.BLOCKED and "max runtime of 30s" in task.last_failure_error


def test_reclaimed_attempt_stops_its_worker(khome, clock, user):
    khome.configure({"sleeper": {"command": agent("hang")}})
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="stop me", actor=user, assignee="sleeper").task
    d = Dispatcher(ctx)
    pid = d.tick().spawned[0]["pid"]
    wait_for(lambda: procs.is_worker_of(pid, tasks.get(ctx, "default", t.id).current_run_id),
             what="the worker to exec")
    transitions.set_status(ctx, "default", t.id, "todo", actor=user)  # a person pulls it back
    result = d.tick(board="default")
    assert result.terminated == [t.id]
    _wait_exit(pid)


def test_concurrent_ticks_of_one_dispatcher_do_not_overlap(khome, clock, user):
    """One pass at a time per dispatcher; two dispatcher objects share no hidden state."""
    khome.configure({})
    ctx = fake_ctx(khome, clock)
    d = Dispatcher(ctx)
    d.lock_wait_seconds = 0.2
    assert d._tick_lock.acquire(blocking=False)
    try:
        assert d.tick().skipped_locked is True
        assert Dispatcher(ctx).tick().skipped_locked is False
    finally:
        d._tick_lock.release()
    assert d.tick().skipped_locked is False


def test_run_wakes_on_new_work_and_stops(khome, user):
    khome.configure({"coder": {"command": agent("complete")}}, interval_seconds=30)
    ctx = khome.ctx
    d = Dispatcher(ctx)
    th = threading.Thread(target=d.run, daemon=True)
    th.start()
    try:
        time.sleep(0.5)  # the first pass found nothing; the next one is 30 s away
        t = tasks.create(ctx, "default", title="wake up", actor=user, assignee="coder").task
        wait_for(lambda: tasks.get(ctx, "default", t.id).worker_pid, timeout=10,
                 what="the loop to wake on the new task well before its interval")
    finally:
        d.stop()
        th.join(10)
    assert not th.is_alive()
    wait_for(lambda: tasks.get(ctx, "default", t.id).status is Status.DONE, what="the worker")


@pytest.mark.parametrize("arg,out", [("{task_id}", "t_1"), ("x{board}y", "xby"), ("{nope}", "{nope}"),
                                     ('{"a": 1}', '{"a": 1}')])
def test_substitute_leaves_other_braces_alone(arg, out):
    assert substitute(arg, {"task_id": "t_1", "board": "b"}) == out


def test_no_new_attempt_while_the_reclaimed_worker_is_still_exiting(khome, clock, user, tmp_path):
    script = tmp_path / "deaf.sh"
    script.write_text("#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n")
    script.chmod(0o755)
    khome.configure({"deaf": {"command": [str(script)], "max_concurrency": 2}}, kill_grace_seconds=1)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="reclaimed", actor=user, assignee="deaf").task
    d = Dispatcher(ctx)
    first = d.tick().spawned[0]["pid"]
    wait_for(lambda: procs.is_worker_of(first, tasks.get(ctx, "default", t.id).current_run_id),
             what="the worker to exec")
    runs_svc.reclaim(ctx, "default", t.id, actor=user)  # from the web UI: nobody signals it
    result = d.tick()
    assert result.terminated == [t.id] and result.waiting_for_exit == [t.id] and not result.spawned
    assert procs.pid_alive(first)  # ignores SIGTERM
    spawned = wait_for(lambda: d.tick().spawned, what="SIGKILL, then the new attempt")
    assert not procs.pid_alive(first)
    procs.terminate(spawned[0]["pid"], None, 0.1)


def test_log_is_rotated_before_an_attempt_and_spawn_errors_are_logged(khome, clock, user):
    khome.configure({"coder": {"command": agent("complete")}, "ghost": {"command": ["no-such-cli"]}},
                    log_rotate_bytes=1024, failure_limit=1)
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="chatty", actor=user, assignee="coder").task
    ghost = tasks.create(ctx, "default", title="missing", actor=user, assignee="ghost").task
    from agentkanban.dispatch.logs import log_path, read_log

    path = log_path(ctx, "default", t.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("old attempt\n" * 200)
    result = Dispatcher(ctx).tick()
    assert result.spawn_failed == [ghost.id] and result.auto_blocked == [ghost.id]
    _wait_exit(result.spawned[0]["pid"])
    assert path.with_name(path.name + ".1").read_text().startswith("old attempt")
    assert "old attempt" not in read_log(ctx, "default", t.id)["content"]
    assert "command not found: 'no-such-cli'" in read_log(ctx, "default", ghost.id)["content"]


def test_worker_that_blocks_parks_the_task_without_a_failure(khome, clock, user):
    khome.configure({"asker": {"command": agent("block")}})
    ctx = fake_ctx(khome, clock)
    t = tasks.create(ctx, "default", title="ambiguous", actor=user, assignee="asker").task
    d = Dispatcher(ctx)
    _wait_exit(d.tick().spawned[0]["pid"])
    result = d.tick()
    assert result.protocol_violation == [] and result.crashed == []
    task = tasks.get(ctx, "default", t.id)
    assert task.status is Status.BLOCKED and task.consecutive_failures == 0
    run = runs_svc.list_runs(ctx, "default", t.id)[0]
    assert (run.outcome, run.summary) == ("blocked", "needs a human decision")


def test_the_first_pass_takes_planner_statistics_and_later_ones_only_when_the_board_grew(
        khome, clock, user):
    ctx = fake_ctx(khome, clock)
    tasks.create(ctx, "default", title="one", actor=user)
    d = Dispatcher(ctx)
    d.sweep_seconds = 0.0  # housekeeping on every pass, not every 10 s
    assert d._stats_taken_at is None
    d.tick()
    assert d._stats_taken_at == 1
    if ctx.store.is_sqlite:
        with ctx.store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tasks'").scalar()
    for i in range(150):
        tasks.create(ctx, "default", title=f"t{i}", actor=user)
    d.tick()
    assert d._stats_taken_at == 151
