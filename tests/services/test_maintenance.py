"""``gc``: old events of finished tasks, stale logs, scratch folders of archived tasks; nothing else."""

from __future__ import annotations

import os

from agentkanban.domain.statuses import Status
from agentkanban.services import boards, events, maintenance

from .helpers import BOARD, make


def test_gc_removes_only_what_it_owns(ctx, user, clock, tmp_path) -> None:
    old_done = make(ctx, Status.DONE, "finished long ago")
    live = make(ctx, Status.READY, "still open")
    gone = make(ctx, Status.ARCHIVED, "archived scratch")
    kept_dir = tmp_path / "user-project"
    kept_dir.mkdir()
    mine = make(ctx, Status.ARCHIVED, "archived dir", workspace=f"dir:{kept_dir}")
    root = boards.workspaces_dir(ctx, BOARD)
    (root / gone.id).mkdir(parents=True)
    (root / gone.id / "notes.txt").write_text("scratch")
    logs = boards.logs_dir(ctx, BOARD)
    logs.mkdir(parents=True, exist_ok=True)
    stale, fresh = logs / f"{old_done.id}.log", logs / f"{live.id}.log"
    stale.write_text("old")
    fresh.write_text("new")
    clock.advance(31 * 86400)
    os.utime(stale, (clock() - 31 * 86400, clock() - 31 * 86400))
    os.utime(fresh, (clock(), clock()))
    before_live = [e.id for e in events.since(ctx, 0, task_id=live.id)]

    result = maintenance.gc(ctx, BOARD, event_days=30, log_days=30)

    assert result["workspaces_removed"] == 1 and not (root / gone.id).exists()
    assert kept_dir.is_dir() and mine.workspace_path == str(kept_dir)  # never outside the board's root
    assert result["logs_removed"] == 1 and not stale.exists() and fresh.exists()
    assert events.since(ctx, 0, task_id=old_done.id) == []  # finished and older than 30 days
    assert [e.id for e in events.since(ctx, 0, task_id=live.id)] == before_live  # open: kept
    assert result["events_deleted"] >= 2


def _stat_rows(ctx) -> dict[str, str]:
    with ctx.store.read() as conn:
        if not conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            return {}
        return dict(conn.exec_driver_sql(
            "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'tasks'").all())


def test_planner_statistics_are_refreshed_when_the_board_doubles_or_halves(ctx) -> None:
    """SQLite plans joins from table statistics; without them it guesses, and joins the board's
    links from the wrong side. PostgreSQL keeps its own (autovacuum): there only the count runs."""
    for i in range(5):
        make(ctx, Status.READY, f"t{i}")
    assert maintenance.refresh_stats_if_stale(ctx, 4) == 4  # 5 tasks: not stale (below 100)
    if ctx.store.is_sqlite:
        assert _stat_rows(ctx) == {}
    assert maintenance.refresh_stats_if_stale(ctx, None) == 5  # never taken
    if ctx.store.is_sqlite:
        assert all(s.split()[0] == "5" for s in _stat_rows(ctx).values()) and _stat_rows(ctx)
    assert maintenance.refresh_stats_if_stale(ctx, 12) == 5  # less than half since
    assert maintenance.refresh_stats_if_stale(ctx, 3) == 3  # grew, but not past 100


def test_gc_keeps_a_scratch_a_child_or_a_live_worker_still_needs(ctx, user) -> None:
    """The reference system's data-loss bug: gc deleted an archived parent's scratch folder while
    its child, still to run, was to read it."""
    from agentkanban.services import tasks, transitions

    parent = make(ctx, Status.READY, "parent")
    child = tasks.create(ctx, BOARD, title="child", actor=user, parents=[parent.id]).task
    busy = make(ctx, Status.ARCHIVED, "worker still exiting")
    transitions.archive(ctx, BOARD, parent.id, actor=user)
    root = boards.workspaces_dir(ctx, BOARD)
    for t in (parent, busy):
        (root / t.id).mkdir(parents=True)
    asked: list[list[str]] = []

    def live(ids: list[str]) -> set[str]:
        asked.append(ids)
        return {busy.id} & set(ids)

    assert maintenance.gc(ctx, BOARD, live_workers=live)["workspaces_removed"] == 0
    assert (root / parent.id).is_dir() and (root / busy.id).is_dir()
    assert asked == [[busy.id]]  # a folder kept for its child needs no process check
    transitions.complete(ctx, BOARD, child.id, actor=user)
    assert maintenance.gc(ctx, BOARD, live_workers=live)["workspaces_removed"] == 1
    assert not (root / parent.id).exists() and (root / busy.id).is_dir()


def test_gc_does_not_follow_or_count_a_symlinked_workspace(ctx, user, tmp_path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    linked = make(ctx, Status.ARCHIVED, "archived, workspace replaced by a link")
    real = make(ctx, Status.ARCHIVED, "archived scratch")
    root = boards.workspaces_dir(ctx, BOARD)
    root.mkdir(parents=True, exist_ok=True)
    (root / linked.id).symlink_to(target, target_is_directory=True)
    (root / real.id).mkdir()
    result = maintenance.gc(ctx, BOARD)
    assert result["workspaces_removed"] == 1
    assert (target / "keep.txt").read_text() == "mine" and not (root / real.id).exists()
