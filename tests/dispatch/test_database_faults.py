"""The dispatcher's own writes ride out a PostgreSQL session lost at COMMIT: a claim is made once,
a worker's exit status is recorded, not turned into a lost runner by a failed write."""

from __future__ import annotations

import pytest

from agentkanban.dispatch import Dispatcher
from agentkanban.services import runs, tasks

from ..pgfault import terminate_at_next_commit
from .conftest import agent, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url: str) -> str:
    return pg_url  # the fault is PostgreSQL's: a session terminated by the server


def test_claim_and_attempt_end_survive_a_terminated_session(khome, user):
    khome.configure({"w": {"command": agent("exit", "3")}}, failure_limit=5)
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="fails once", actor=user, assignee="w").task
    d = Dispatcher(ctx)
    killed = terminate_at_next_commit(ctx.store.engine, khome.db_url)
    result = d.tick()
    assert killed, "no write was cut"
    assert [s["id"] for s in result.spawned] == [t.id] and result.errors == []
    assert [r.outcome for r in runs.list_runs(ctx, "default", t.id)] == [None]

    wait_for(lambda: d.spawner.any_exited(), what="the worker to exit")
    killed = terminate_at_next_commit(ctx.store.engine, khome.db_url)
    result = d.tick(max_spawn=0)
    assert killed and result.crashed == [t.id], result
    [run] = runs.list_runs(ctx, "default", t.id)
    assert run.outcome == "crashed" and "3" in (run.error or "")
    assert tasks.get(ctx, "default", t.id).consecutive_failures == 1
