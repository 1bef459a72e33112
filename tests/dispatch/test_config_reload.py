"""config.yaml takes effect in a running `kanban daemon`: on change and on SIGHUP, validated first;
a broken file is refused with the start-up error and the configuration before stays in force."""

from __future__ import annotations

import signal

import yaml

from agentkanban.domain.statuses import Status
from agentkanban.services import tasks

from .conftest import agent, wait_for


def status_of(khome, tid):
    return tasks.get(khome.ctx, "default", tid).status


def test_a_profile_added_while_the_daemon_runs_starts_its_waiting_task(khome, daemon, user):
    khome.configure({"coder": {"command": agent("complete")}})
    d = daemon()
    waiting = tasks.create(khome.ctx, "default", title="Write", actor=user, assignee="writer").task
    wait_for(lambda: "dispatcher running" in d.log.read_text(), 30, "the daemon to start")
    # A broken file is refused, said in the log, and nothing changes.
    (khome.path / "config.yaml").write_text("profiles:\n  coder: {command: [x]\n")
    wait_for(lambda: "was not reloaded" in d.log.read_text(), 30, "the refusal in the log")
    assert "not valid YAML" in d.log.read_text()
    assert status_of(khome, waiting.id) is Status.READY
    # A good file with the missing profile: the task runs, without a restart.
    khome.configure({"coder": {"command": agent("complete")}, "writer": {"command": agent("complete")}})
    wait_for(lambda: status_of(khome, waiting.id) is Status.DONE, 30, "the writer's task to finish")
    assert d.proc is not None and d.proc.poll() is None
    assert "reloaded (profiles changed)" in d.log.read_text()


def test_sighup_reloads_at_once(khome, daemon, user):
    khome.configure({"coder": {"command": agent("complete")}})
    d = daemon(interval=30)  # the passes are far apart: only the reload wakes it
    wait_for(lambda: "dispatcher running" in d.log.read_text(), 30, "the daemon to start")
    t = tasks.create(khome.ctx, "default", title="Review", actor=user, assignee="reviewer").task
    cfg = {"profiles": {"coder": {"command": agent("complete")},
                        "reviewer": {"command": agent("complete")}},
           "dispatch": {"interval_seconds": 0.5, "kill_grace_seconds": 0.5}}
    (khome.path / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: status_of(khome, t.id) is Status.DONE, 30, "the reviewer's task to finish")
    assert d.proc.poll() is None  # SIGHUP reloads; it does not stop the daemon
