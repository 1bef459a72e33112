"""Faults on this machine's side are retried later and never counted against the task."""

from __future__ import annotations

import os
import resource
import sys
import time

import pytest

from agentkanban.dispatch import reaper, spawner
from agentkanban.domain.models import Run
from agentkanban.errors import SpawnError
from agentkanban.services import backoff


def _run() -> Run:
    return Run(id=1, task_id="t_00000001", profile="coder", status="running", claim_lock="h:1",
               claim_expires=None, worker_pid=123, max_runtime_seconds=None, last_heartbeat_at=None,
               started_at=time.time(), ended_at=None, outcome=None, summary=None, metadata=None,
               error=None)


def test_a_worker_that_found_the_database_unreachable_is_not_counted():
    outcome, error, counted = reaper.classify(backoff.UNAVAILABLE_EXIT, 123, _run(), time.time(), False)
    assert outcome == "crashed" and not counted and backoff.is_infrastructure(error)
    assert reaper.classify(1, 123, _run(), time.time(), False)[2]  # an ordinary crash still counts


def test_running_out_of_file_descriptors_is_an_infrastructure_spawn_failure(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use, hard))  # nothing more can be opened
    children = spawner.Spawner()
    try:
        with pytest.raises(SpawnError) as failed:
            children.spawn([sys.executable, "-c", "pass"], env={}, cwd=tmp_path,
                          log_path=tmp_path / "logs" / "t_00000001.log", run_id=1,
                          task_id="t_00000001", board="default")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert backoff.is_infrastructure(failed.value.message), failed.value.message
    assert "Too many open files" in failed.value.message


def test_worker_logs_and_their_folder_are_private(tmp_path):
    import stat

    log = tmp_path / "logs" / "t_00000002.log"
    children = spawner.Spawner()
    pid = children.spawn([sys.executable, "-c", "print('secret output')"], env=dict(os.environ),
                         cwd=tmp_path, log_path=log, run_id=2, task_id="t_00000002", board="default")
    deadline = time.monotonic() + 60
    while pid in {c.pid for c in children.running_children()} and time.monotonic() < deadline:
        children.collect_exits()
        time.sleep(0.05)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_workers_never_inherit_the_servers_secrets():
    base = {"KANBAN_TOKEN": "the-api-token", "TELEGRAM_BOT_TOKEN": "123:abc", "PATH": "/bin",
            "SOME_AGENT_KEY": "kept", "OTHER_SECRET": "dropped", "KANBAN_RUN_TOKEN": "a parent's",
            "MY_TG": "123:abc", "LC_ALL": "C.UTF-8"}
    env = spawner.worker_env(base, ["SOME_AGENT_*", "MY_TG"], {"KANBAN_TOKEN": "x", "A": "b"},
                             hidden=["123:abc", ""])
    # Only the basics and what is named; a secret neither by name nor by value (MY_TG holds the
    # configured bot token under another name).
    assert env == {"PATH": "/bin", "LC_ALL": "C.UTF-8", "SOME_AGENT_KEY": "kept", "A": "b"}
