"""A COMMIT lost with its connection on PostgreSQL: looked up, never re-run blindly.

Real faults only (see tests/pgfault.py): the server terminates the session at COMMIT, or a relay
on 127.0.0.1 cuts the connection after the server committed, or before, and then keeps the client
from asking. And the retry that every surface runs on a transient error: the API, the MCP tools,
the CLI, each making the change exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentkanban.config import load_settings
from agentkanban.errors import CommitOutcomeUnknown, StorageError
from agentkanban.mcp.tools import Toolset
from agentkanban.services import Actor, Ctx, open_ctx, runs, tasks
from agentkanban.store import engine as store_engine
from agentkanban.store.transient import is_transient
from agentkanban.web.app import create_app

from ..pgfault import CuttingProxy, terminate_at_next_commit

USER = Actor("user")
pytestmark = pytest.mark.postgres


def _ctx(url: str, home: Path, *, retry_seconds: float = 20, **env: str) -> Ctx:
    (home / "config.yaml").write_text(f"database_retry_seconds: {retry_seconds}\n"
                                      "serve:\n  allowed_hosts: [testserver]\n")
    return open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": url, **env}))


def _titles(url: str, home: Path) -> list[str]:
    ctx = _ctx(url, home / "reader") if (home / "reader").mkdir() is None else None
    assert ctx is not None
    return [t.title for t in tasks.list_tasks(ctx, "default", sort="created")]


@pytest.fixture(autouse=True)
def _fresh_engines():
    yield
    store_engine.close_all()


def test_a_commit_on_a_terminated_session_fails_cleanly_and_the_retry_makes_it_once(pg_url, tmp_path):
    ctx = _ctx(pg_url, tmp_path)
    killed = terminate_at_next_commit(ctx.store.engine, pg_url)
    with pytest.raises(StorageError) as err:
        tasks.create(ctx, "default", title="lost", actor=USER)
    assert killed and is_transient(err.value)
    assert _titles(pg_url, tmp_path) == []  # aborted: nothing was made

    killed = terminate_at_next_commit(ctx.store.engine, pg_url)
    made = ctx.retry.run(lambda: tasks.create(ctx, "default", title="kept", actor=USER))
    assert killed and made.created
    assert [t.title for t in tasks.list_tasks(ctx, "default")] == ["kept"]


def test_a_commit_the_server_made_but_never_acknowledged_is_reported_done_not_repeated(pg_url, tmp_path):
    with CuttingProxy(pg_url) as proxy:
        ctx = _ctx(proxy.url, tmp_path)
        heard: list[str] = []
        ctx.store.add_listener(lambda evs: heard.extend(e.kind for e in evs))
        proxy.arm("after")
        calls = []

        def create():
            calls.append(1)
            return tasks.create(ctx, "default", title="exactly once", actor=USER)

        made = ctx.retry.run(create)
        assert proxy.cuts == 1 and len(calls) == 1
        assert made.created and made.task.title == "exactly once"
        assert [t.title for t in tasks.list_tasks(ctx, "default")] == ["exactly once"]
        assert heard.count("created") == 1  # listeners hear of the committed change once


def test_a_commit_whose_outcome_cannot_be_learnt_is_an_error_never_retried(pg_url, tmp_path):
    with CuttingProxy(pg_url) as proxy:
        ctx = _ctx(proxy.url, tmp_path, retry_seconds=1)
        proxy.arm("before", refuse_after=True)
        calls = []

        def create():
            calls.append(1)
            return tasks.create(ctx, "default", title="unknown", actor=USER)

        with pytest.raises(CommitOutcomeUnknown, match="may or may not have been made"):
            ctx.retry.run(create)
        assert proxy.cuts == 1 and len(calls) == 1
    assert _titles(pg_url, tmp_path) == []  # cut before it reached the server


def test_the_api_answers_503_and_the_cli_exits_69_when_the_outcome_is_unknown(pg_url, tmp_path):
    with CuttingProxy(pg_url) as proxy:
        ctx = _ctx(proxy.url, tmp_path, retry_seconds=1)
        app = create_app(ctx.settings, ctx=ctx)
        with TestClient(app) as client:
            client.headers["authorization"] = f"Bearer {app.state.token}"
            assert client.get("/api/tasks").status_code == 200
            proxy.arm("before", refuse_after=True)
            resp = client.post("/api/tasks", json={"title": "unknown"})
        assert resp.status_code == 503, resp.text
        assert "may or may not have been made" in resp.json()["detail"]
    with CuttingProxy(pg_url) as proxy:
        proxy.arm("before", refuse_after=True)
        env = {**os.environ, "KANBAN_HOME": str(tmp_path), "KANBAN_DATABASE_URL": proxy.url}
        res = subprocess.run([sys.executable, "-m", "agentkanban", "create", "from the cli"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 69, res.stderr
        assert "may or may not have been made" in res.stderr and "Traceback" not in res.stderr
    assert _titles(pg_url, tmp_path) == []


def test_an_api_write_whose_session_was_terminated_is_retried_and_made_once(pg_url, tmp_path):
    ctx = _ctx(pg_url, tmp_path)
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as client:
        client.headers["authorization"] = f"Bearer {app.state.token}"
        killed = terminate_at_next_commit(ctx.store.engine, pg_url)
        resp = client.post("/api/tasks", json={"title": "through a lost session"})
        assert resp.status_code == 200, resp.text
        assert killed
        tid = resp.json()["task"]["id"]
        killed = terminate_at_next_commit(ctx.store.engine, pg_url)
        resp = client.patch(f"/api/tasks/{tid}", json={"priority": 3})
        assert resp.status_code == 200 and killed
        listed = client.get("/api/tasks").json()["tasks"]
    assert [(t["title"], t["priority"]) for t in listed] == [("through a lost session", 3)]


def test_a_workers_mcp_complete_through_a_lost_session_completes_once(pg_url, tmp_path):
    ctx = _ctx(pg_url, tmp_path)
    t = tasks.create(ctx, "default", title="finish me", actor=USER, assignee="coder").task
    claim = runs.claim(ctx, "default", t.id, profile="coder", lock="test:1", ttl=900)
    assert claim is not None
    worker = _ctx(pg_url, tmp_path, KANBAN_TASK_ID=t.id, KANBAN_RUN_ID=str(claim.run_id),
                  KANBAN_RUN_TOKEN=claim.token, KANBAN_PROFILE="coder", KANBAN_BOARD="default")
    tools = Toolset(worker, worker.settings)
    killed = terminate_at_next_commit(worker.store.engine, pg_url)
    done = tools.kanban_complete(summary="done through a lost session")
    assert killed and not done.is_error, done.content
    again = tools.kanban_complete(summary="a repeat of the same attempt")
    assert not again.is_error  # a no-op that succeeds
    shown = tasks.show(ctx, "default", t.id)
    assert shown.task.status.value == "done"
    assert shown.task.result is None or "repeat" not in (shown.task.result or "")
    assert [r.outcome for r in shown.runs] == ["completed"]
    assert [e.kind for e in shown.events].count("completed") == 1

