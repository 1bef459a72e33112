"""The whole loop as it runs for real: the dispatcher starts a worker profile whose command is an
MCP client, and that client works its task through ``python -m agentkanban mcp``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agentkanban.config import Settings, load_settings
from agentkanban.dispatch import Dispatcher
from agentkanban.dispatch import logs as dispatch_logs
from agentkanban.services import Ctx, context, open_ctx, runs, tasks
from agentkanban.store import engine as store_engine

from .helpers import make_task

WORKER = str(Path(__file__).with_name("mcp_worker.py"))


@pytest.fixture
def board_ctx(home: Path, db_url: str) -> Iterator[tuple[Settings, Ctx]]:
    (home / "config.yaml").write_text(yaml.safe_dump({
        "profiles": {"coder": {"command": [sys.executable, WORKER, "{task_id}"]}},
        "dispatch": {"interval_seconds": 0.2},
    }))
    settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
    ctx = open_ctx(settings)
    yield settings, ctx
    store_engine.close_all()


def _run_until_done(dispatcher: Dispatcher, ctx: Ctx, task_id: str) -> str:
    """Dispatch until the worker has exited and been reaped; returns the worker's log."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        dispatcher.tick()
        task = tasks.get(ctx, "default", task_id)
        if task.status.value != "running" and task.claim_lock is None and not dispatcher.spawner.running_children():
            break
        time.sleep(0.2)
    log = str(dispatch_logs.read_log(ctx, "default", task_id)["content"])
    task = tasks.get(ctx, "default", task_id)
    assert task.status.value == "done", f"task is {task.status.value}; worker log:\n{log}"
    return log


def test_dispatched_worker_drives_the_board_over_mcp(board_ctx: tuple[Settings, Ctx]) -> None:
    settings, ctx = board_ctx
    parent = make_task(ctx, "Write the parser", assignee="coder")
    child = make_task(ctx, "Document the parser", assignee="writer", parents=(parent,))

    log = _run_until_done(Dispatcher(ctx), ctx, parent)
    assert "'kanban_complete'" in log and "kanban_create" in log  # the worker saw its own tool set
    detail = tasks.show(ctx, "default", parent)
    attempt = runs.list_runs(ctx, "default", parent)[-1]
    assert attempt.outcome == "completed" and attempt.profile == "coder"
    assert attempt.metadata is not None and attempt.metadata["files"] == ["parser.py"]
    [comment] = detail.comments
    assert comment.author == "coder"
    assert [e.kind for e in detail.events].count("heartbeat") == 1

    follow_up = next(c for c in detail.children if c != child)
    assert attempt.metadata["created_cards"] == [follow_up]
    made = tasks.show(ctx, "default", follow_up)
    assert made.parents == [parent] and made.task.created_by == "coder"
    assert made.task.assignee == "reviewer" and made.task.status.value == "ready"

    for waiting in (child, follow_up):
        handoff = context.build(ctx, "default", waiting)
        assert f"Parser done for {parent}; follow-up filed." in handoff
        assert '"tests_passed": 12' in handoff
    assert tasks.get(ctx, "default", child).status.value == "ready"
