"""What budgets cost a dispatcher pass, and how long a many-attempt context takes to build.

1. An idle pass over a board of ``--tasks`` tasks whose ``--held`` ready tasks all belong to a
   profile over its daily budget, with a usage ledger of ``--ledger`` reports this month (spread
   over profiles and days), a provider and per-task limits: the gate's reads on every pass.
   The same board without budgets is the baseline.
2. ``context.build`` of a task with ``--attempts`` prior attempts, each with a checkpoint, a 4 KB
   log tail and usage (the bounded history section).

Usage: ``python bench/costs_bench.py [--tasks 10000] [--held 200] [--ledger 100000]
[--attempts 50] [--database-url URL | --postgres]``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy import insert

from agentkanban.config import load_settings
from agentkanban.dispatch import Dispatcher
from agentkanban.services import Actor, context, open_ctx, runs, sessions, tasks, transitions
from agentkanban.services import boards as boards_svc
from agentkanban.services import usage as usage_svc
from agentkanban.store.schema import usage as usage_table
from agentkanban.store.schema import usage_daily


def _ctx(url: str | None, extra: dict, coder: bool = True) -> object:
    home = Path(tempfile.mkdtemp(prefix="kanban-costs-bench-"))
    profiles = {"coder": {"command": ["true"]}, "idle": {"command": ["true"]}}
    if not coder:  # the baseline: the ready tasks wait for a profile that is not configured
        del profiles["coder"]
    cfg = {"profiles": profiles,
           "dispatch": {"max_in_progress": 1000}, **extra}
    (home / "config.yaml").write_text(yaml.safe_dump(cfg))
    env = {"KANBAN_HOME": str(home)}
    if url:
        env["KANBAN_DATABASE_URL"] = url
    ctx = open_ctx(load_settings(env))
    boards_svc.create(ctx, "default")
    return ctx


def _board(ctx, n_tasks: int, held: int, ledger: int) -> None:
    user = Actor("bench")
    for i in range(n_tasks - held):
        t = tasks.create(ctx, "default", title=f"done {i}", actor=user, assignee="idle",
                         max_cost_usd=5 if i % 50 == 0 else None).task
        transitions.complete(ctx, "default", t.id, actor=user, summary="done")
    for i in range(held):
        tasks.create(ctx, "default", title=f"held {i}", actor=user, assignee="coder",
                     max_cost_usd=5 if i % 10 == 0 else None)
    now = ctx.now()
    today = usage_svc.day_of(now)
    rows = [{"run_id": i, "task_id": "t_bench", "board": "default",
             "profile": ("coder", "idle", "other")[i % 3], "day": today[:8] + f"{1 + i % 28:02d}",
             "model": "m", "source": "cli", "input_tokens": 1000, "output_tokens": 100,
             "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.01, "created_at": now}
            for i in range(ledger)]
    rows.append({**rows[0], "day": today, "profile": "coder", "cost_usd": 100.0})
    sums: dict[tuple[str, str, str], dict] = {}
    for r in rows:  # what store.usage.add keeps per day, board and profile, built in one go here
        s = sums.setdefault((r["day"], r["board"], r["profile"]), {
            "day": r["day"], "board": r["board"], "profile": r["profile"], "input_tokens": 0,
            "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.0,
            "reports": 0})
        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"):
            s[k] += r[k]
        s["reports"] += 1
    with ctx.store.write() as tx:
        for i in range(0, len(rows), 5000):
            tx.conn.execute(insert(usage_table), rows[i:i + 5000])
        tx.conn.execute(insert(usage_daily), list(sums.values()))


def idle_pass(ctx) -> float:
    d = Dispatcher(ctx)
    d.tick()
    times = []
    for _ in range(20):
        s = time.perf_counter()
        r = d.tick()
        times.append((time.perf_counter() - s) * 1000)
        assert not r.spawned
    return statistics.median(times)


def context_build(url: str | None, attempts: int) -> tuple[float, int]:
    ctx = _ctx(url, {})
    user = Actor("bench")
    t = tasks.create(ctx, "default", title="retried", actor=user, assignee="coder", max_retries=10_000).task
    for i in range(attempts):
        claim = runs.claim(ctx, "default", t.id, profile="coder", lock="h:1:x", ttl=900)
        worker = Actor("coder", worker_task=t.id, run_id=claim.run_id, run_token=claim.token)
        runs.heartbeat(ctx, "default", t.id, actor=worker, note=f"step {i}", data={"i": i})
        usage_svc.record(ctx, "default", t.id, actor=worker, input_tokens=1000, cost_usd=0.1)
        sessions.settle(ctx, "default", claim.run_id, log_tail="x" * 4096, entries=[], session_id=None,
                        source=None)
        runs.end_attempt(ctx, "default", t.id, claim.run_id, outcome="crashed", error="exit 1",
                         count_failure=True, failure_limit=10_000)
    times = []
    for _ in range(20):
        s = time.perf_counter()
        doc = context.build(ctx, "default", t.id)
        times.append((time.perf_counter() - s) * 1000)
    return statistics.median(times), len(doc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--held", type=int, default=200)
    ap.add_argument("--ledger", type=int, default=100_000)
    ap.add_argument("--attempts", type=int, default=50)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--postgres", action="store_true",
                    help="start a throwaway PostgreSQL cluster (the test suite's) and use it")
    a = ap.parse_args()
    if a.postgres:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pg import PgCluster, PgDatabases

        cluster = PgCluster()
        cluster.start()
        try:
            dbs = PgDatabases(None, cluster)
            _run(a, dbs.new_url)
        finally:
            cluster.stop()
        return
    _run(a, lambda: a.database_url)


def _run(a: argparse.Namespace, new_url) -> None:  # type: ignore[no-untyped-def]
    backend = "postgresql" if a.postgres or a.database_url else "sqlite"
    plain = _ctx(new_url(), {}, coder=False)
    _board(plain, a.tasks, a.held, a.ledger)
    base = idle_pass(plain)
    budgeted = _ctx(new_url(), {
        "budgets": {"profiles": {"coder": {"daily_usd": 20}, "idle": {"monthly_tokens": 10**12}},
                    "boards": {"default": {"monthly_usd": 10**6}}},
        "providers": {"acct": {"profiles": ["coder", "idle"], "max_concurrency": 5}}})
    _board(budgeted, a.tasks, a.held, a.ledger)
    gated = idle_pass(budgeted)
    ctx_ms, size = context_build(new_url(), a.attempts)
    print(f"| measure ({backend}) | p50 |\n|---|---|")
    print(f"| idle pass, {a.tasks:,} tasks, {a.held} ready for an unconfigured profile, no budgets | {base:.1f} ms |")
    print(f"| same, {a.held} ready held by a profile budget, ledger {a.ledger:,} reports | {gated:.1f} ms |")
    print(f"| context of a task with {a.attempts} prior attempts ({size:,} chars) | {ctx_ms:.1f} ms |")


if __name__ == "__main__":
    main()
