"""The board's tallies (column and label counts kept by triggers) stay equal to a count of the
rows through every kind of write: create, status changes, label changes, bulk, archive, delete,
board removal, and rows written outside the services."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from sqlalchemy import insert, select, update

from agentkanban.services import Actor, boards, bulk, changes, deletion, tasks
from agentkanban.services.board_page import page
from agentkanban.services.labels import board_labels
from agentkanban.store import tallies
from agentkanban.store.schema import tallies as tallies_table
from agentkanban.store.schema import tasks as tasks_table

from .helpers import BOARD

USER = Actor("alice")
STATUSES = ["todo", "ready", "blocked", "triage", "done"]
LABELS = ["bug", "ui", "docs", "ops"]


def _recount(ctx: Any, board: str) -> tuple[dict[str, int], dict[str, int]]:
    with ctx.store.read() as conn:
        rows = conn.execute(select(tasks_table.c.status, tasks_table.c.labels)
                            .where(tasks_table.c.board == board)).all()
    by_status = Counter(st for st, _ in rows)
    by_label: Counter[str] = Counter()
    for st, raw in rows:
        if raw and st != "archived":
            by_label.update(json.loads(raw))
    return dict(by_status), dict(by_label)


def _kept(ctx: Any, board: str) -> tuple[dict[str, int], dict[str, int]]:
    with ctx.store.read() as conn:
        return tallies.statuses(conn, board), tallies.labels(conn, board)


def test_tallies_follow_every_write(ctx) -> None:
    rng = random.Random(7)
    boards.create(ctx, "other")
    ids = [tasks.create(ctx, BOARD, title=f"t{i}", actor=USER,
                        labels=rng.sample(LABELS, rng.randint(0, 2)),
                        triage=i % 5 == 0).task.id for i in range(40)]
    ids += [tasks.create(ctx, BOARD, title="child", actor=USER, parents=[ids[0]], labels=["bug"]).task.id]
    for _ in range(60):
        tid = rng.choice(ids)
        op = rng.randrange(3)
        if op == 0:
            try:
                changes.update(ctx, BOARD, tid, changes.Update(status=rng.choice(STATUSES)), actor=USER)
            except Exception:  # a refused move changes nothing, which is what is checked
                pass
        elif op == 1:
            changes.update(ctx, BOARD, tid, changes.Update(labels=rng.sample(LABELS, rng.randint(0, 3))),
                           actor=USER)
        else:
            changes.update(ctx, BOARD, tid, changes.Update(add_labels=["ops"], remove_labels=["bug"]),
                           actor=USER)
    bulk.apply(ctx, BOARD, ids[:10], bulk.Change(archive=True), actor=USER)
    bulk.apply(ctx, BOARD, ids[10:20], bulk.Change(status="blocked", add_labels=["ui"]), actor=USER)
    deletion.delete_task(ctx, ids[30], actor=USER)
    tasks.delete_archived(ctx, BOARD, ids[:3])
    tasks.create(ctx, "other", title="elsewhere", actor=USER, labels=["docs"])
    assert _kept(ctx, BOARD) == _recount(ctx, BOARD)
    assert _kept(ctx, "other") == _recount(ctx, "other")
    assert _kept(ctx, "other")[1] == {"docs": 1} and sum(_kept(ctx, "other")[0].values()) == 1


def test_rows_written_outside_the_services_are_counted(ctx) -> None:
    """Triggers, not the services, keep the counts: a raw insert, an update moving rows to
    another board, and a board's removal are all reflected."""
    boards.create(ctx, "side")
    now = ctx.now()
    rows = [{"id": f"t_{i:08x}", "board": BOARD, "title": "raw", "status": "todo" if i % 2 else "done",
             "priority": 0, "created_by": "x", "created_at": now, "updated_at": now,
             "workspace_kind": "scratch", "consecutive_failures": 0,
             "labels": json.dumps(["bug"]) if i % 3 == 0 else None} for i in range(30)]
    with ctx.store.write() as tx:
        tx.conn.execute(insert(tasks_table), rows)
    assert _kept(ctx, BOARD) == _recount(ctx, BOARD) == ({"todo": 15, "done": 15}, {"bug": 10})
    with ctx.store.write() as tx:
        tx.conn.execute(update(tasks_table).where(tasks_table.c.status == "done")
                        .values(board="side", status="archived"))
    assert _kept(ctx, BOARD) == ({"todo": 15}, {"bug": 5})
    assert _kept(ctx, "side") == ({"archived": 15}, {})
    boards.remove(ctx, "side", hard=True)
    assert _kept(ctx, "side") == ({}, {})


def test_the_dashboard_reads_its_counts_from_the_tallies(ctx) -> None:
    for i in range(7):
        tasks.create(ctx, BOARD, title=f"a{i}", actor=USER, labels=["ui"] if i < 3 else None,
                     tenant="acme" if i < 2 else None)
    with ctx.store.write() as tx:  # a slice out of step shows on the page: the tallies are read
        tx.conn.execute(insert(tallies_table).values(board=BOARD, kind="status", name="todo",
                                                     shard=999, n=100))
    got = page(ctx, BOARD, limit=2)
    counts = {c["name"]: c["count"] for c in got["columns"]}
    assert counts["todo"] + counts["ready"] == 7 + 100 and counts["todo"] >= 100
    assert {lab["name"]: lab["count"] for lab in board_labels(ctx, BOARD)} == {"ui": 3}
    filtered = page(ctx, BOARD, limit=2, tenant="acme")  # a filter counts the matching rows
    assert sum(c["count"] for c in filtered["columns"]) == 2



def test_a_count_out_of_step_is_found_and_recounted(ctx) -> None:
    from agentkanban.services import doctor, integrity

    for i in range(4):
        tasks.create(ctx, BOARD, title=f"c{i}", actor=USER, labels=["ops"])
    assert integrity.check(ctx)["tallies_off"] == []
    assert "tallies_off" not in {f["code"] for f in doctor.diagnose(ctx, BOARD)}
    with ctx.store.write() as tx:  # a hand edit of the counts
        tx.conn.execute(insert(tallies_table).values(board=BOARD, kind="label", name="ops",
                                                     shard=999, n=-3))
    report = integrity.check(ctx)
    assert not report["ok"] and report["tallies_off"] == [BOARD]
    assert any("doctor --repair" in p for p in report["problems"])
    found = [f for f in doctor.diagnose(ctx, BOARD) if f["code"] == "tallies_off"]
    assert found and found[0]["repairable"]
    repaired = doctor.repair(ctx, BOARD)["repaired"]
    assert "tallies_off" in {f["code"] for f in repaired}
    assert integrity.check(ctx)["tallies_off"] == []
    assert _kept(ctx, BOARD) == _recount(ctx, BOARD) and _kept(ctx, BOARD)[1] == {"ops": 4}
