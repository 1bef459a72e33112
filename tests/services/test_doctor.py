"""``doctor`` finds each problem on a board made to have it; ``repair`` fixes the safe ones; a
healthy board reports nothing. ``db check`` finds each broken invariant."""

from __future__ import annotations

import pytest

from agentkanban.config import load_settings
from agentkanban.domain.statuses import Status
from agentkanban.services import (
    Actor,
    boards,
    deliveries,
    doctor,
    events,
    integrity,
    open_ctx,
    runs,
    subs,
    tasks,
    transitions,
)
from agentkanban.store import engine as store_engine

from .helpers import BOARD, claim, make


@pytest.fixture
def dctx(home, db_url, clock):
    """A context whose config has one profile, ``coder``."""
    (home / "config.yaml").write_text("profiles:\n  coder:\n    command: [\"true\"]\n")
    c = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}), clock=clock)
    yield c
    store_engine.close_all()


def codes(findings) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for f in findings:
        out.setdefault(f["code"], set()).add(f["task_id"])
    return out


def fail(ctx, task_id: str, error: str) -> None:
    c = claim(ctx, task_id)
    runs.end_attempt(ctx, BOARD, task_id, c.run_id, outcome="crashed", error=error,
                     count_failure=True, failure_limit=10)


def test_healthy_board_reports_nothing(dctx, clock) -> None:
    from agentkanban.services import health

    make(dctx, Status.READY)
    make(dctx, Status.DONE)
    running = make(dctx, Status.RUNNING)
    blocked = make(dctx, Status.BLOCKED)
    clock.advance(3600)
    transitions.complete(dctx, BOARD, running.id, actor=Actor("user"), summary="ok")
    health.record_dispatcher_tick(dctx)  # a dispatcher is running
    assert blocked and doctor.diagnose(dctx) == []
    assert integrity.check(dctx)["ok"] is True


def test_doctor_finds_each_problem_and_repairs_the_safe_ones(dctx, clock, user) -> None:
    stuck = make(dctx, Status.RUNNING, "worker vanished")
    quiet = make(dctx, Status.BLOCKED, "waiting on a person")
    clock.advance(2 * 86400)  # the lease is long gone, the blocker two days old
    unassigned = tasks.create(dctx, BOARD, title="nobody's", actor=user).task
    ghost = tasks.create(dctx, BOARD, title="for a ghost", actor=user, assignee="ghost").task
    flaky = make(dctx, Status.READY, "always the same error")
    for _ in range(3):
        fail(dctx, flaky.id, "ImportError: no module named foo")
    mixed = make(dctx, Status.READY, "different errors")
    for err in ("a", "b", "c"):
        fail(dctx, mixed.id, err)
    noisy = make(dctx, Status.READY, "notifies a dead chat")
    subs.subscribe(dctx, BOARD, noisy.id, platform="telegram", chat_id="42")
    transitions.block(dctx, BOARD, noisy.id, actor=user, reason="x")  # owes a message
    job = deliveries.claim_next(dctx, ["telegram"], lease_seconds=30)
    assert job is not None
    deliveries.record_failed(dctx, job, "403 Forbidden: bot was kicked")
    root = boards.workspaces_dir(dctx, BOARD)
    (root / "t_deadbeef").mkdir(parents=True)  # a task deleted long ago
    gone = make(dctx, Status.ARCHIVED, "archived with scratch")
    (root / gone.id).mkdir()
    (root / gone.id / "notes.txt").write_text("left behind")
    live = make(dctx, Status.READY, "has its workspace")
    (root / live.id).mkdir()

    found = codes(doctor.diagnose(dctx))
    assert found == {
        "stuck_running": {stuck.id}, "blocked_unattended": {quiet.id},
        "ready_unassigned": {unassigned.id}, "ready_unknown_profile": {ghost.id},
        "repeated_failure": {flaky.id}, "delivery_failing": {None},
        "orphan_workspace": {"t_deadbeef", gone.id}, "dispatcher_down": {None},
    }
    result = doctor.repair(dctx)
    assert codes(result["repaired"]) == {"stuck_running": {stuck.id},
                                         "orphan_workspace": {"t_deadbeef", gone.id}}
    assert set(codes(result["needs_person"])) == {"blocked_unattended", "ready_unassigned",
                                                  "ready_unknown_profile", "repeated_failure",
                                                  "delivery_failing", "dispatcher_down"}
    assert tasks.get(dctx, BOARD, stuck.id).status is Status.READY
    reclaimed = [e for e in events.since(dctx, 0, board=BOARD) if e.task_id == stuck.id
                 and e.kind == "reclaimed"]
    assert reclaimed and "lease expired" in reclaimed[-1].payload["reason"]
    repaired = [e for e in events.since(dctx, 0, board=BOARD) if e.kind == "repaired"]
    assert [(e.task_id, e.payload["reason"]) for e in repaired] == [(gone.id, "doctor: the task is archived")]
    assert not (root / "t_deadbeef").exists() and not (root / gone.id).exists()
    assert (root / live.id).is_dir()  # a live task's workspace is never touched
    assert set(codes(doctor.diagnose(dctx))) == set(codes(result["needs_person"]))


def _raw(ctx, sql: str, **params) -> None:
    """A hand edit of the database: the only way to break an invariant the services keep."""
    from sqlalchemy import text

    with ctx.store.write() as tx:
        tx.conn.execute(text(sql), params)


def test_db_check_finds_each_broken_invariant(dctx) -> None:
    a, b, c = (make(dctx, Status.READY, n) for n in "abc")
    running = make(dctx, Status.RUNNING, "r")
    assert integrity.check(dctx)["ok"]
    _raw(dctx, "UPDATE tasks SET status = 'running' WHERE id = :id", id=a.id)  # no open run
    _raw(dctx, "UPDATE tasks SET status = 'ready' WHERE id = :id", id=running.id)  # run left open
    from agentkanban.services import links

    links.link(dctx, BOARD, b.id, c.id)
    _raw(dctx, "INSERT INTO task_links (parent_id, child_id) VALUES (:p, :c)", p=c.id, c=b.id)
    report = integrity.check(dctx)
    assert not report["ok"]
    text = "\n".join(report["problems"])
    assert f"task {a.id} (default) is running with 0 open runs" in text
    assert f"task {running.id} (default) is ready but has 1 open run" in text
    assert "dependency cycle" in text and b.id in text and c.id in text
    assert {f["code"] for f in doctor.diagnose(dctx)} >= {"integrity"}
