"""``kanban runner`` against a real ``kanban serve``: both subprocesses on 127.0.0.1, the runner
with its own KANBAN_HOME and no database in its environment, its workers real shell scripts."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
import yaml

from ..serving import Server, start_server, stop_server
from .conftest import LEASE, ended, server_config, sh, wait_for

pytestmark = pytest.mark.slow

SERVER_CONFIG = server_config()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("server-home")
    (home / "config.yaml").write_text(yaml.safe_dump(SERVER_CONFIG))
    srv = start_server(home, dispatch=True)
    if srv.client.post("/api/runners/register", json={}).status_code == 404:
        stop_server(srv)
        pytest.skip("this server has no runner routes")
    try:
        yield srv
    finally:
        stop_server(srv)


def test_a_crashed_worker_is_reported_and_retried(server: Server, start_runner) -> None:
    runner = start_runner("crasher", {"crash": sh("echo crashing on {task_id}; exit 3")})
    task = server.create("crash me", assignee="crash")
    done = wait_for(lambda: len(ended(server, task["id"])) >= 2, what="two crashed attempts", runner=runner)
    outcomes = [r["outcome"] for r in ended(server, task["id"])]
    assert outcomes[:2] == ["crashed", "crashed"], outcomes
    assert done
    log = server.api("GET", f"/api/tasks/{task['id']}/log")["content"]
    assert f"crashing on {task['id']}" in log
    assert "exit reported: outcome crashed" in runner.text()


def test_output_streams_while_the_worker_runs_and_secrets_stay_out(server: Server, start_runner) -> None:
    runner = start_runner("talker", {"talk": sh(
        "echo started in $PWD; env | sort; echo KANBAN_URL=$KANBAN_URL; sleep 30")})
    task = server.create("talk", assignee="talk")

    def log() -> str:
        return str(server.api("GET", f"/api/tasks/{task['id']}/log")["content"])

    wait_for(lambda: "started in" in log(), what="output while running", runner=runner)
    assert server.task(task["id"])["task"]["status"] == "running"
    text = log()
    assert f"KANBAN_URL={server.url}" in text
    assert f"KANBAN_TASK_ID={task['id']}" in text
    assert f"runner-workspaces/default/{task['id']}" in text
    for secret in ("kbr_", "SECRET_OF_THE_RUNNER", "KANBAN_TOKEN", "KANBAN_DATABASE_URL", "KANBAN_HOME"):
        assert secret not in text, secret
    assert (runner.home / "runner-workspaces" / "default" / task["id"]).stat().st_mode & 0o777 == 0o700


def test_a_worker_past_its_max_runtime_is_stopped_and_timed_out(server: Server, start_runner) -> None:
    runner = start_runner("slow", {"slow": {**sh("echo slow; sleep 60"), "max_runtime": 1}})
    task = server.create("too slow", assignee="slow")
    first = wait_for(lambda: ended(server, task["id"]), what="an ended attempt", runner=runner)[0]
    assert first["outcome"] == "timed_out", first
    assert "max runtime" in runner.text()


def test_a_spawn_error_is_reported_as_spawn_failed(server: Server, start_runner) -> None:
    runner = start_runner("broken", {"broken": {"command": ["/nonexistent/agent", "{task_id}"]}})
    task = server.create("cannot start", assignee="broken")
    first = wait_for(lambda: ended(server, task["id"]), what="an ended attempt", runner=runner)[0]
    assert first["outcome"] == "spawn_failed", first
    assert "command not found" in (first.get("error") or "")


def test_a_killed_runner_loses_its_attempt_after_the_lease(server: Server, start_runner) -> None:
    runner = start_runner("doomed", {"doomed": sh("echo working; sleep 60")})
    task = server.create("orphaned", assignee="doomed")
    wait_for(lambda: server.task(task["id"])["task"]["status"] == "running", what="running", runner=runner)
    runner.proc.kill()
    runner.proc.wait(5)
    killed_at = time.monotonic()
    first = wait_for(lambda: ended(server, task["id"]), timeout=LEASE + 15, what="the reclaim")[0]
    assert first["outcome"] == "runner_lost", first
    assert time.monotonic() - killed_at < LEASE + 10


def test_a_refused_token_stops_the_runner(server: Server, start_runner) -> None:
    runner = start_runner("nobody", {"x": sh("true")}, token="kbr_not-a-real-token")
    assert runner.wait() == 78
    text = runner.text()
    assert "refused the runner token" in text
    assert "kbr_not-a-real-token" not in text


def test_first_signal_lets_the_worker_finish_second_stops_it(server: Server, start_runner) -> None:
    runner = start_runner("drainer", {"drain": sh("echo begin; sleep 2; echo end; exit 4")})
    task = server.create("drain", assignee="drain")
    wait_for(lambda: server.task(task["id"])["task"]["status"] == "running", what="running", runner=runner)
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.wait() == 0
    assert "claiming no more work" in runner.text()
    first = ended(server, task["id"])[0]
    assert first["outcome"] == "crashed" and "4" in (first.get("error") or ""), first
    log = server.api("GET", f"/api/tasks/{task['id']}/log")["content"]
    assert "end" in log
