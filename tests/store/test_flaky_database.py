"""A database restart costs no finished work: the worker's `kanban complete` retries and succeeds
once, a repeat is a no-op, and transient errors are told apart from real ones."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import exc

from agentkanban.config import load_settings
from agentkanban.errors import StorageError, ValidationError
from agentkanban.services import Actor, events, open_ctx, runs, tasks
from agentkanban.store import engine as store_engine
from agentkanban.store.transient import is_transient, retrying

from ..conftest import _missing


class _Orig(Exception):
    def __init__(self, text: str, sqlstate: str | None = None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


def _db_error(text: str, sqlstate: str | None = None) -> exc.OperationalError:
    return exc.OperationalError("SELECT 1", {}, _Orig(text, sqlstate))


def test_transient_errors_are_told_apart():
    assert is_transient(_db_error("FATAL: the database system is starting up", "57P03"))
    assert is_transient(_db_error("could not serialize access", "40001"))
    assert is_transient(_db_error("server closed the connection unexpectedly"))
    wrapped = StorageError("database error")
    wrapped.__cause__ = _db_error("terminating connection due to administrator command", "57P01")
    assert is_transient(wrapped)
    assert not is_transient(_db_error("disk full", "53100"))
    assert not is_transient(ValidationError("title cannot be empty"))
    assert not is_transient(_db_error('relation "tasks" does not exist', "42P01"))


def test_retrying_is_bounded():
    calls: list[float] = []
    now = [0.0]

    def flaky() -> str:
        calls.append(now[0])
        raise _db_error("connection refused")

    def sleep(s: float) -> None:
        now[0] += s

    with pytest.raises(exc.OperationalError):
        retrying(flaky, deadline_seconds=10, sleep=sleep, clock=lambda: now[0])
    assert 3 < len(calls) < 20 and now[0] <= 10
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[-1] > gaps[0]  # backing off


@pytest.fixture
def cluster(pg_databases):
    if pg_databases is None or pg_databases.cluster is None:
        _missing("a PostgreSQL cluster this test may restart")
    return pg_databases.cluster


def test_complete_during_a_postgres_restart_succeeds_once(cluster, pg_databases, tmp_path):
    url = pg_databases.new_url()
    home = tmp_path / "home"
    settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": url})
    ctx = open_ctx(settings)
    t = tasks.create(ctx, "default", title="finish me", actor=Actor("user"), assignee="coder").task
    claim = runs.claim(ctx, "default", t.id, profile="coder", lock="test:1", ttl=900)
    assert claim is not None
    store_engine.close_all()
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": url,
           "KANBAN_TASK_ID": t.id, "KANBAN_RUN_ID": str(claim.run_id),
           "KANBAN_RUN_TOKEN": claim.token, "KANBAN_PROFILE": "coder", "KANBAN_BOARD": "default"}
    cluster.shut_down()
    restarted = threading.Event()
    try:
        worker = subprocess.Popen([sys.executable, "-m", "agentkanban", "complete", "--summary",
                                   "done while the database restarted"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # the worker meets a database that is down, and keeps trying
        cluster.start_again()
        restarted.set()
        out, err = worker.communicate(timeout=120)
    finally:
        if not restarted.is_set():
            cluster.start_again()
    assert worker.returncode == 0, err
    ctx = open_ctx(settings)
    try:
        done = tasks.show(ctx, "default", t.id)
        assert done.task.status.value == "done"
        assert [r.outcome for r in done.runs] == ["completed"]
        before = events.latest_id(ctx)
        again = subprocess.run([sys.executable, "-m", "agentkanban", "complete", "--summary", "again"],
                               env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr  # the same attempt: a no-op that succeeds
        assert events.latest_id(ctx) == before
    finally:
        store_engine.close_all()


def test_an_unreachable_database_exits_69_so_the_attempt_is_not_counted(tmp_path):
    (tmp_path / "config.yaml").write_text("database_retry_seconds: 2\n")
    env = {**os.environ, "KANBAN_HOME": str(tmp_path),
           "KANBAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"}
    res = subprocess.run([sys.executable, "-m", "agentkanban", "list"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 69, res.stderr
    assert "unreachable" in res.stderr and "Traceback" not in res.stderr


def test_services_wait_out_a_postgres_restart(cluster, pg_databases, tmp_path):
    """A write that arrives while the server restarts waits for it instead of failing."""
    url = pg_databases.new_url()
    settings = load_settings({"KANBAN_HOME": str(tmp_path), "KANBAN_DATABASE_URL": url})
    ctx = open_ctx(settings)
    try:
        tasks.create(ctx, "default", title="before", actor=Actor("user"))
        cluster.shut_down()
        timer = threading.Timer(1.5, cluster.start_again)
        timer.start()
        try:
            made = tasks.create(ctx, "default", title="during the restart", actor=Actor("user"))
        finally:
            timer.join()
        assert made.created
        assert [t.title for t in tasks.list_tasks(ctx, "default", sort="created")] == [
            "before", "during the restart"]
    finally:
        store_engine.close_all()
