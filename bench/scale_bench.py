#!/usr/bin/env python3
"""Scale benchmark: what one write or read costs as the board grows.

For boards of 1,000, 10,000 and 100,000 tasks, most of them waiting (nine ``todo`` children under
each unfinished ``triage`` task), on SQLite and on PostgreSQL, through the services (p50 of
``--repeat`` runs, milliseconds):

* create a task; complete an unrelated ready task; a ``PATCH`` status change (``changes.update``,
  what the route calls); claim a ready task;
* an idle dispatcher pass (its first pass, which also takes planner statistics, is not counted);
* open the dashboard's board: ``GET /board/page`` (``board_page.page`` + JSON), and of that the
  part that says why each waiting card is not moving and what each running card's worker last
  reported (``why.explain_all`` + ``activity.annotate``); for comparison the seed's ``GET /board``
  (``views.board_view`` + JSON), which returns every task.

Target: each operation at 100,000 tasks within 1.5x of its cost at 1,000 (not ``GET /board``).

    python bench/scale_bench.py [--sizes 1000,10000,100000] [--repeat 15] [--backends sqlite,postgres]
                                [--out bench/scale.md]

PostgreSQL runs on a throwaway cluster (the test suite's), started and stopped here.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert

from agentkanban.config import load_settings
from agentkanban.dispatch import Dispatcher
from agentkanban.ids import new_task_id
from agentkanban.services import (
    Actor,
    Ctx,
    activity,
    board_page,
    changes,
    maintenance,
    open_ctx,
    runs,
    tasks,
    transitions,
    views,
    why,
)
from agentkanban.store import engine as store_engine
from agentkanban.store.schema import task_links
from agentkanban.store.schema import tasks as tasks_table

USER = Actor("bench")
BOARD = "default"
CHUNK = 5000


# -- the board ------------------------------------------------------------------------------------
def populate(ctx: Ctx, n: int, pool: int) -> dict[str, list[str]]:
    """``n`` tasks: a tenth unfinished triage roots, nine waiting todo children under each; then
    ``pool`` unassigned ready tasks per operation that needs one. Rows are inserted in bulk (the
    board's shape is what is measured, not how it was filled)."""
    now = time.time()
    rows: list[dict[str, Any]] = []
    links: list[dict[str, str]] = []
    root = ""
    seen: set[str] = set()
    for i in range(n):
        tid = new_task_id()
        while tid in seen:  # 8 hex digits: at 100,000 ids a repeat is likely
            tid = new_task_id()
        seen.add(tid)
        if i % 10 == 0:
            root, status = tid, "triage"
        else:
            status = "todo"
            links.append({"parent_id": root, "child_id": tid})
        rows.append(_row(tid, f"task {i}", status, now - n + i, tenant=f"team{i % 5}",
                         assignee=f"agent{i % 8}"))
    with ctx.store.write() as tx:
        for i in range(0, len(rows), CHUNK):
            tx.conn.execute(insert(tasks_table), rows[i:i + CHUNK])
        for i in range(0, len(links), CHUNK):
            tx.conn.execute(insert(task_links), links[i:i + CHUNK])
    maintenance.refresh_stats(ctx)
    if not ctx.store.is_sqlite:
        # What autovacuum does to tables this size soon after they were filled: planner statistics
        # (the links' too: without them the planner walks every link for a page's edges), and the
        # visibility map that lets index-only reads skip the heap.
        with ctx.store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    ops = {}
    for op in ("complete", "patch", "claim"):
        ops[op] = [tasks.create(ctx, BOARD, title=f"{op} {k}", actor=USER).task.id
                   for k in range(pool)]
    return ops


def _row(tid: str, title: str, status: str, at: float, **kw: Any) -> dict[str, Any]:
    return {"id": tid, "board": BOARD, "title": title, "body": "Some body text " * 5,
            "status": status, "priority": hash(tid) % 10, "created_by": "bench", "created_at": at,
            "updated_at": at, "workspace_kind": "scratch", "consecutive_failures": 0, **kw}


# -- measuring ------------------------------------------------------------------------------------
def p50(fn: Callable[[int], Any], repeat: int) -> float:
    samples = []
    for k in range(repeat):
        t0 = time.perf_counter()
        fn(k)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def writes_and_reads(ctx: Ctx, n: int, repeat: int, full_board: bool) -> dict[str, float]:
    """Section 2: each operation's p50 on a board of ``n`` mostly waiting tasks."""
    ops = populate(ctx, n, repeat)
    dispatcher = Dispatcher(ctx)
    dispatcher.tick()
    out = {
        "create": p50(lambda k: tasks.create(ctx, BOARD, title=f"new {k}", actor=USER), repeat),
        "complete": p50(lambda k: transitions.complete(ctx, BOARD, ops["complete"][k], actor=USER,
                                                       summary="done"), repeat),
        "PATCH status": p50(lambda k: changes.update(ctx, BOARD, ops["patch"][k],
                                                     changes.Update(status="blocked"),
                                                     actor=USER), repeat),
        "claim": p50(lambda k: runs.claim(ctx, BOARD, ops["claim"][k], profile="bench",
                                          lock="bench:1", ttl=900), repeat),
        "idle dispatcher pass": p50(lambda k: dispatcher.tick(), repeat),
        "dashboard board (GET /board/page)": p50(
            lambda k: orjson.dumps(board_page.page(ctx, BOARD)), repeat),
    }
    cards = [c for col in board_page.page(ctx, BOARD)["columns"] for c in col["tasks"]]
    out["  of which: why and activity of the page's cards"] = p50(
        lambda k: (why.explain_all(ctx, BOARD, cards), activity.annotate(ctx, cards)), repeat)
    if full_board:
        out["seed board (GET /board, every task)"] = p50(
            lambda k: orjson.dumps(views.board_view(ctx, BOARD)), max(3, repeat // 5))
    return out


# Sections of this benchmark, each a function of (ctx, board size, repeat) returning figures.
# The PostgreSQL concurrency figures (writers and dispatchers side by side) are not a function of
# the board size: ``--concurrency`` runs bench/concurrency_bench.py's measurements after these.
SECTIONS: dict[str, Callable[[Ctx, int, int, bool], dict[str, float]]] = {
    "writes and reads by board size": writes_and_reads,
}


# -- backends -------------------------------------------------------------------------------------
@contextmanager
def sqlite_urls() -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory() as d:
        count = iter(range(1000))
        yield lambda: f"sqlite:///{d}/k{next(count)}.db"


@contextmanager
def postgres_urls() -> Iterator[Callable[[], str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pg import PgCluster, PgDatabases

    cluster = PgCluster()
    cluster.start()
    try:
        dbs = PgDatabases(None, cluster)
        yield lambda: str(dbs.new_url(migrated=True))
    finally:
        store_engine.close_all()
        cluster.stop()


BACKENDS = {"sqlite": sqlite_urls, "postgres": postgres_urls}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--out", default=None, help="also write the tables to this markdown file")
    ap.add_argument("--concurrency", action="store_true",
                    help="on PostgreSQL, also writes/s with 1, 4, 16 writers and tasks done/s with "
                         "1, 2, 3 dispatchers (bench/concurrency_bench.py)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
             f"{platform.system()} {platform.machine()}, Python {platform.python_version()}; "
             f"p50 of {args.repeat} runs, milliseconds.", ""]
    for backend in args.backends.split(","):
        with BACKENDS[backend]() as new_url, tempfile.TemporaryDirectory() as home:
            for section, run in SECTIONS.items():
                figures: dict[int, dict[str, float]] = {}
                for n in sizes:
                    settings = load_settings({"KANBAN_HOME": home, "KANBAN_DATABASE_URL": new_url()})
                    ctx = open_ctx(settings)
                    figures[n] = run(ctx, n, args.repeat, n <= 10_000 or backend == "sqlite")
                    ctx.store.dispose()
                    print(f"[{backend} {n}] {figures[n]}", file=sys.stderr, flush=True)
                lines += _table(f"{section}, {backend}", sizes, figures)
            if args.concurrency and backend == "postgres":
                lines += _concurrency(new_url)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


def _concurrency(new_url: Callable[[], str]) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import concurrency_bench as cb

    out = ["| writers (PostgreSQL) | writes/s | per writer |", "|---|---:|---:|"]
    for n in (1, 4, 16):
        rate = cb.writes_per_second(new_url(), n, 6.0)
        out.append(f"| {n} | {rate:,.0f} | {rate / n:,.0f} |")
    out += ["", "| dispatchers (PostgreSQL) | tasks done/s |", "|---|---:|"]
    for n in (1, 2, 3):
        out.append(f"| {n} | {cb.done_per_second(new_url(), n, 120):.1f} |")
    return [*out, ""]


def _table(title: str, sizes: list[int], figures: dict[int, dict[str, float]]) -> list[str]:
    head = f"| {title} | " + " | ".join(f"{n:,}" for n in sizes) + " | largest / smallest |"
    out = [head, "|---" + "|---:" * (len(sizes) + 1) + "|"]
    for op in figures[sizes[0]]:
        vals = [figures[n].get(op) for n in sizes]
        cells = " | ".join(f"{v:.2f}" if v is not None else "-" for v in vals)
        ratio = f"{vals[-1] / vals[0]:.2f}x" if vals[0] and vals[-1] is not None else "-"
        out.append(f"| {op} | {cells} | {ratio} |")
    return [*out, ""]


if __name__ == "__main__":
    main()
