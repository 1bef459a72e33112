"""A worker holds its own attempt's credential and nothing more: real dispatcher passes, real
worker processes (docs/security.md)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkanban.dispatch import Dispatcher
from agentkanban.services import tasks
from agentkanban.store import engine as store_engine
from agentkanban.web.auth import load_token

from ..conftest import IN_CI
from .conftest import Home, kill_workers_of, wait_for

DUMP = "import json, os, sys; open(sys.argv[1], 'w').write(json.dumps(dict(os.environ)))"
RUN_AS_WORKER = Path(__file__).parent / "workers" / "run_as.sh"
RUN_AS_SERVED = Path(__file__).parent / "workers" / "run_as_served.sh"


def test_a_worker_gets_the_allow_list_only(khome: Home, user, monkeypatch, tmp_path):
    for name, value in {"KANBAN_TOKEN": "the-api-token", "TELEGRAM_BOT_TOKEN": "1:tg",
                        "DISCORD_BOT_TOKEN": "dc", "SLACK_BOT_TOKEN": "xoxb-1", "MY_SECRET": "s3cret",
                        "AGENT_API_KEY": "passed", "AWS_REGION": "eu-west-1", "AWS_PROFILE": "dev",
                        "LC_CTYPE": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "env.json"
    khome.configure({"dumper": {"command": [sys.executable, "-c", DUMP, str(out)],
                                "env": {"PROFILE_VAR": "task {task_id}"},
                                "env_passthrough": ["AWS_*"]}},
                    env_passthrough=["AGENT_API_KEY"])
    task = tasks.create(khome.ctx, "default", title="dump", actor=user, assignee="dumper").task
    assert Dispatcher(khome.ctx).tick().spawned
    env = json.loads(wait_for(lambda: out.exists() and out.read_text(), what="the dump"))
    for secret in ("KANBAN_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN", "MY_SECRET"):
        assert secret not in env, secret
    assert env["AGENT_API_KEY"] == "passed"  # dispatch.env_passthrough
    assert (env["AWS_REGION"], env["AWS_PROFILE"]) == ("eu-west-1", "dev")  # the profile's glob
    assert env["LC_CTYPE"] == "C.UTF-8" and env["PATH"] == os.environ["PATH"]  # basics
    assert env["PROFILE_VAR"] == f"task {task.id}"
    assert env["KANBAN_TASK_ID"] == task.id and env["KANBAN_PROFILE"] == "dumper"
    assert env["KANBAN_RUN_TOKEN"] and env["KANBAN_RUN_ID"] and env["KANBAN_BOARD"] == "default"
    assert env["KANBAN_HOME"] == str(khome.path) and env["KANBAN_DATABASE_URL"] == khome.db_url
    assert env["KANBAN_WORKSPACE"]


@pytest.fixture
def unix_user():
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("run_as tests need root (to add a user) when CI=true", pytrace=False)
        pytest.skip("run_as tests need root")
    name = f"kanban-wtest-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def test_run_as_starts_the_worker_as_that_user_without_the_owners_files(unix_user, user):
    import pwd

    # A home the other user could reach were the dispatcher to open it (pytest's folders are 0700).
    path = Path(tempfile.mkdtemp(prefix="kanban-run-as-"))
    home = Home(path, f"sqlite:///{path / 'kanban.db'}")
    dispatcher: Dispatcher | None = None
    try:
        home.configure({"sandboxed": {
            "command": ["/bin/sh", str(RUN_AS_WORKER), str(path / "kanban.db"), str(path / "token"),
                        str(path / "config.yaml")],
            "run_as": unix_user}})
        load_token(home.settings)  # the token file, as `kanban serve` writes it
        task = tasks.create(home.ctx, "default", title="sandboxed", actor=user, assignee="sandboxed").task
        dispatcher = Dispatcher(home.ctx)
        result = dispatcher.tick()
        assert result.spawned, result
        ws = Path(result.spawned[0]["workspace"])
        done = wait_for(lambda: (ws / "done").exists(), what="the worker")
        assert done
        assert int((ws / "uid").read_text()) == pwd.getpwnam(unix_user).pw_uid
        assert (ws / "home").read_text().strip() == pwd.getpwnam(unix_user).pw_dir
        denied = (ws / "denied").read_text()
        for name in ("kanban.db", "token", "config.yaml"):
            assert f"{path / name}: Permission denied" in denied, denied
        assert not (ws / "readable").exists(), (ws / "readable").read_text()
        assert task.id in ws.name
    finally:
        kill_workers_of(home)
        if dispatcher is not None:
            dispatcher.spawner.close()
        store_engine.close_all()
        subprocess.run(["rm", "-rf", str(path)], check=False)


def served_with_another_task(home: Path, profiles: dict[str, Any], **start: Any) -> tuple[Any, str]:
    """``kanban serve`` on ``home`` with its dispatcher and ``profiles``, whose commands' ``{other}``
    names a task of the board that is not theirs (made before the profiles exist)."""
    from ..serving import start_server, stop_server

    config = {"dispatch": {"interval_seconds": 0.2}, "profiles": profiles}
    (home / "config.yaml").write_text(yaml.safe_dump({**config, "profiles": {}}))
    srv = start_server(home, dispatch=False)
    try:
        other = srv.create("someone else's")["id"]
    finally:
        stop_server(srv)
    (home / "config.yaml").write_text(yaml.safe_dump(config).replace("{other}", other))
    return start_server(home, dispatch=True, **start), other


def test_a_served_run_as_worker_reaches_the_board_over_http_only(unix_user):
    """Served by `kanban serve`, a worker running as another user gets the server's URL instead of
    the database: it completes its own task through it with its run token, which does nothing
    to another task, and holds no token that acts as the operator."""
    from ..serving import stop_server

    path = Path(tempfile.mkdtemp(prefix="kanban-served-as-"))
    path.chmod(0o755)
    srv, other = served_with_another_task(path, {"sandboxed": {
        "command": ["/bin/sh", str(RUN_AS_SERVED), "{other}"], "run_as": unix_user}})
    try:
        task = srv.create("sandboxed", assignee="sandboxed")
        ws = path / "boards" / "default" / "workspaces" / task["id"]
        if not wait_for(lambda: (ws / "done").exists() or srv.task(task["id"])["runs"][-1:] and
                        srv.task(task["id"])["runs"][-1].get("outcome"), what="the worker", timeout=60) \
                or not (ws / "done").exists():
            pytest.fail(f"the worker did not finish: {srv.task(task['id'])['runs']}\n"
                        f"{srv.api('GET', '/api/tasks/' + task['id'] + '/log')['content']}\n"
                        f"{srv.log.read_text()[-3000:]}")
        env = dict(line.split("=", 1) for line in (ws / "env.txt").read_text().splitlines() if "=" in line)
        assert env["KANBAN_URL"] == srv.url
        for name in ("KANBAN_DATABASE_URL", "KANBAN_HOME", "KANBAN_TOKEN", "TELEGRAM_BOT_TOKEN"):
            assert name not in env, name
        assert (ws / "attack.status").read_text() == "401"  # no token: the server refuses
        assert (ws / "other.status").read_text() == "403"  # its run token: its own task only
        assert (ws / "complete.status").read_text() == "200"
        assert wait_for(lambda: srv.task(task["id"])["task"]["status"] == "done", what="done")
        assert srv.task(other)["task"]["status"] == "ready"
    finally:
        stop_server(srv)
        subprocess.run(["rm", "-rf", str(path)], check=False)


def test_a_served_worker_reaches_the_board_with_its_run_token_only(tmp_path):
    """Served by `kanban serve`, every worker (not only a run_as one) gets the server's URL and no
    database: its `kanban` and its MCP tools act through the server for its own attempt, and
    what the operator could do is refused, with or without the worker variables."""
    from ..serving import stop_server

    worker = Path(__file__).parent / "workers" / "served_worker.py"
    srv, other = served_with_another_task(tmp_path, {"agent": {
        "command": [sys.executable, str(worker), "{other}"], "env_passthrough": ["PYTHONPATH"]}},
        env={"SLACK_BOT_TOKEN": "xoxb-secret"})
    try:
        task = srv.create("served", assignee="agent")
        ws = tmp_path / "boards" / "default" / "workspaces" / task["id"]

        def ended_badly() -> bool:
            runs = srv.task(task["id"])["runs"]
            return bool(runs) and runs[-1].get("outcome") not in (None, "completed")

        if not wait_for(lambda: (ws / "result.json").exists() or ended_badly(), what="the worker",
                        timeout=120) or not (ws / "result.json").exists():
            pytest.fail(f"the worker did not finish: {srv.task(task['id'])['runs']}\n"
                        f"{srv.api('GET', '/api/tasks/' + task['id'] + '/log')['content']}")
        seen = json.loads((ws / "result.json").read_text())
        env = seen["env"]
        assert env["KANBAN_URL"] == srv.url
        for name in ("KANBAN_DATABASE_URL", "KANBAN_HOME", "KANBAN_TOKEN", "SLACK_BOT_TOKEN",
                     "TELEGRAM_BOT_TOKEN"):
            assert name not in env, name
        assert seen["show_own"]["code"] == 0 and json.loads(seen["show_own"]["out"])["task"]["id"] == task["id"]
        assert seen["complete_other"]["code"] == 1
        assert "may only complete its own task" in seen["complete_other"]["err"]
        assert seen["archive_other"]["code"] == 1 and "run token reaches" in seen["archive_other"]["err"]
        assert seen["reclaim_other"]["code"] == 2 and "runs only where" in seen["reclaim_other"]["err"]
        assert seen["unset_complete_other"]["code"] == 1
        assert "missing or wrong token" in seen["unset_complete_other"]["err"]
        assert seen["unset_boards"]["code"] == 2
        mcp = seen["mcp"]
        assert mcp["show_other"]["error"]["type"] == "Forbidden"
        assert mcp["comment"]["ok"] and mcp["comment"]["author"] == "agent"
        assert mcp["complete"]["ok"] and mcp["complete"]["status"] == "done"
        assert wait_for(lambda: srv.task(task["id"])["task"]["status"] == "done", what="done")
        shown = srv.task(other)
        assert shown["task"]["status"] == "ready" and not shown["comments"]
    finally:
        stop_server(srv)
