"""What a runner's claim hands out: ready tasks of its profiles whose required labels (the task's
own and its profile's ``runs_on``) it carries, never one waiting for approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings
from agentkanban.services import Actor, Ctx, runner_work, tasks
from agentkanban.services import runners as runners_svc
from agentkanban.store import runners as store_runners

from .helpers import BOARD

CONFIG = """
profiles:
  gpu-coder:
    command: ["true"]
    runs_on: [gpu]
  gated:
    command: ["true"]
    requires_approval: true
"""


@pytest.fixture
def settings(home: Path, db_url: str) -> Settings:
    (home / "config.yaml").write_text(CONFIG)
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


def runner(ctx: Ctx, name: str, labels: list[str]) -> str:
    _runner, token = runners_svc.create_token(ctx, name)
    runners_svc.register(ctx, token, labels=labels, profiles=["noop", "gpu-coder", "gated"],
                         capacity=8, version=None, host=None)
    return token


def test_a_claim_hands_out_only_what_the_runner_may_run(ctx: Ctx, user: Actor) -> None:
    def new(title: str, assignee: str, runs_on: list[str] | None = None) -> str:
        tid = tasks.create(ctx, BOARD, title=title, actor=user, assignee=assignee).task.id
        if runs_on:
            with ctx.store.write() as tx:
                store_runners.set_runs_on(tx.conn, tid, runs_on)
        return tid

    plain = new("plain", "noop")
    elsewhere = new("another profile", "other")
    needs_gpu = new("needs a gpu", "noop", ["gpu"])
    on_linux = new("needs linux", "noop", ["linux"])
    bound = new("its profile needs a gpu", "gpu-coder")
    gated = new("waits for approval", "gated")

    def claimed(token: str) -> set[str]:
        return {w["task_id"] for w in runner_work.claim(ctx, token, 8)}

    assert claimed(runner(ctx, "linux-1", ["linux"])) == {plain, on_linux}
    assert claimed(runner(ctx, "gpu-1", ["gpu"])) == {needs_gpu, bound}
    assert claimed(runner(ctx, "all-1", ["gpu", "linux"])) == set()
    for tid in (elsewhere, gated):
        assert tasks.get(ctx, BOARD, tid).status.value == "ready"


def test_a_claim_with_nothing_for_its_profiles_claims_nothing(ctx: Ctx, user: Actor) -> None:
    for i in range(3):
        tasks.create(ctx, BOARD, title=f"other {i}", actor=user, assignee="other")
    assert runner_work.claim(ctx, runner(ctx, "idle-1", []), 2) == []


def test_a_claim_pages_past_a_queue_it_cannot_take(ctx: Ctx, user: Actor) -> None:
    """A claim reads the ready queue a page at a time; more than a page of work the runner may
    not take (another runner's labels, a person's approval) ahead of its own does not hide it."""
    skipped = runner_work.READY_PAGE + 6
    for i in range(skipped):
        tid = tasks.create(ctx, BOARD, title=f"gpu work {i}", actor=user, assignee="noop",
                           priority=5).task.id
        with ctx.store.write() as tx:
            store_runners.set_runs_on(tx.conn, tid, ["gpu"])
    for i in range(runner_work.READY_PAGE):
        tasks.create(ctx, BOARD, title=f"approval first {i}", actor=user, assignee="gated",
                     priority=3)
    mine = [tasks.create(ctx, BOARD, title=f"mine {i}", actor=user, assignee="noop").task.id
            for i in range(3)]
    token = runner(ctx, "cpu-1", [])
    first = {w["task_id"] for w in runner_work.claim(ctx, token, 2)}  # past two pages
    assert len(first) == 2 and first <= set(mine)
    assert {w["task_id"] for w in runner_work.claim(ctx, token, 5)} == set(mine) - first
    assert runner_work.claim(ctx, token, 5) == []
