"""The review loop with real worker processes and a real daemon: acceptance commands, a
reviewer profile, bounded rounds and the approval gate before a start."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.services import context, events, runs, tasks

from .conftest import wait_for

WORKERS = Path(__file__).parent / "workers"
IMPLEMENTER = str(WORKERS / "implementer.sh")
REVIEWER = str(WORKERS / "reviewer.sh")
ENV = {"KANBAN_PY": sys.executable}
CHECK = "test -f fixed || { echo 'tests failed: widget broken'; exit 1; }"


def _status(khome, tid: str) -> Status:
    return tasks.get(khome.ctx, "default", tid).status


def _kinds(khome, tid: str) -> list[str]:
    return [e.kind for e in events.since(khome.ctx, 0, task_id=tid)]


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_acceptance_then_review_rounds_then_done_with_handoff(khome, daemon, user, tmp_path):
    khome.configure({
        "coder": {"command": [IMPLEMENTER], "env": ENV, "acceptance": [CHECK],
                  "acceptance_timeout": 60, "review": {"by": "reviewer", "max_rounds": 3}},
        "reviewer": {"command": [REVIEWER], "env": ENV},
    })
    ws = tmp_path / "ws"
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="build the widget", actor=user, assignee="coder",
                     workspace=f"dir:{ws}").task
    child = tasks.create(ctx, "default", title="ship it", actor=user, assignee="nobody",
                         parents=[t.id]).task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.DONE, timeout=120, what="the review loop")
    # 1: acceptance failed; its output reached the second attempt's context, which fixed it.
    assert "widget broken" in (ws / "context-2.md").read_text()
    assert (ws / "fixed").exists()
    # 2: the reviewer asked for changes; the third attempt read the reason and did it.
    assert "add docs please (review 1)" in (ws / "context-3.md").read_text()
    assert "## Review: you are checking this work" in (ws / "review-context-1.md").read_text()
    assert "implementer attempt 2" in (ws / "review-context-1.md").read_text()
    history = [(r.kind, r.profile, r.outcome) for r in runs.list_runs(ctx, "default", t.id)]
    assert history == [
        ("work", "coder", "completed"), ("acceptance", "coder", "changes_requested"),
        ("work", "coder", "completed"), ("acceptance", "coder", "accepted"),
        ("review", "reviewer", "changes_requested"),
        ("work", "coder", "completed"), ("acceptance", "coder", "accepted"),
        ("review", "reviewer", "approved")]
    kinds = _kinds(khome, t.id)
    assert kinds.count("acceptance_failed") == 1 and kinds.count("changes_requested") == 1
    assert kinds[-2:] == ["approved", "completed"]
    # The child is promoted with the implementer's handoff and the review added to it.
    assert _status(khome, child.id) is Status.READY
    doc = context.build(ctx, "default", child.id)
    assert "implementer attempt 3" in doc and "checked: docs present" in doc
    from agentkanban.dispatch.logs import read_log

    assert "tests failed: widget broken" in read_log(ctx, "default", t.id)["content"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rounds_spent_block_for_a_person_with_the_thread(khome, daemon, user, tmp_path):
    khome.configure({"coder": {"command": [IMPLEMENTER], "env": ENV},
                     "picky": {"command": [REVIEWER], "env": {**ENV, "PICKY": "1"}}})
    t = tasks.create(khome.ctx, "default", title="never good enough", actor=user, assignee="coder",
                     workspace=f"dir:{tmp_path / 'ws'}", review_by="picky", review_max_rounds=2).task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.BLOCKED, timeout=90, what="blocked after 2 rounds")
    last = events.since(khome.ctx, 0, task_id=t.id)[-1]
    assert last.kind == "blocked"
    assert "1. review by picky: add docs please (review 1)" in last.payload["reason"]
    assert "2. review by picky: add docs please (review 2)" in last.payload["reason"]
    assert len([r for r in runs.list_runs(khome.ctx, "default", t.id) if r.kind == "review"]) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_missing_acceptance_command_is_a_failed_acceptance(khome, daemon, user, tmp_path):
    khome.configure({"coder": {"command": [IMPLEMENTER], "env": ENV,
                               "acceptance": ["no-such-check-command --all"],
                               "review": {"by": "human", "max_rounds": 1}}})
    t = tasks.create(khome.ctx, "default", title="x", actor=user, assignee="coder",
                     workspace=f"dir:{tmp_path / 'ws'}").task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.BLOCKED, timeout=90, what="the failed acceptance")
    failed = [e for e in events.since(khome.ctx, 0, task_id=t.id) if e.kind == "acceptance_failed"]
    assert len(failed) == 1
    assert "no-such-check-command --all" in failed[0].payload["reason"]
    assert "not found" in failed[0].payload["reason"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_approval_gate_holds_until_a_person_approves(khome, daemon, user, tmp_path):
    khome.configure({"coder": {"command": [IMPLEMENTER], "env": ENV, "requires_approval": True}})
    t = tasks.create(khome.ctx, "default", title="delete the old data", actor=user, assignee="coder",
                     workspace=f"dir:{tmp_path / 'ws'}").task
    d = daemon()
    wait_for(lambda: "approval_requested" in _kinds(khome, t.id), what="the approval request")
    passes_before = _passes(khome)
    wait_for(lambda: _passes(khome) >= passes_before + 4, what="four more dispatcher passes")
    assert _status(khome, t.id) is Status.READY and runs.list_runs(khome.ctx, "default", t.id) == []
    assert _kinds(khome, t.id).count("approval_requested") == 1
    khome.cli("approve-start", t.id)
    asked = time.monotonic()
    wait_for(lambda: _status(khome, t.id) is not Status.READY, what="the start after approval")
    assert time.monotonic() - asked < 30
    wait_for(lambda: _status(khome, t.id) is Status.DONE, what="the approved task to finish")
    history = [(r.kind, r.outcome) for r in runs.list_runs(khome.ctx, "default", t.id)]
    assert history == [("approval", "start_approved"), ("work", "completed")]
    d.stop()


def _passes(khome) -> int:
    from agentkanban.services import health

    status = health.dispatcher_status(khome.ctx)
    return int(status["pass_count"]) if status else 0
