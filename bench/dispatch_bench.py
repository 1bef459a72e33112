"""Dispatcher benchmarks.

1. ready -> spawned latency with a daemon running: a task is created by another process (as
   ``kanban create`` would) and we measure the time until its worker has been started.
2. One pass over a board of 10,000 tasks when there is nothing to do.

Usage: ``python bench/dispatch_bench.py [--samples 30] [--tasks 10000] [--database-url URL]``
(default: a throwaway SQLite database). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from agentkanban.config import load_settings
from agentkanban.dispatch import Dispatcher
from agentkanban.services import Actor, open_ctx, tasks, transitions
from agentkanban.services import boards as boards_svc


def _home(url: str | None, profiles: dict) -> tuple[Path, dict[str, str]]:
    home = Path(tempfile.mkdtemp(prefix="kanban-bench-"))
    (home / "config.yaml").write_text(yaml.safe_dump({
        "profiles": profiles, "dispatch": {"interval_seconds": 2, "max_in_progress": 1000}}))
    env = {"KANBAN_HOME": str(home)}
    if url:
        env["KANBAN_DATABASE_URL"] = url
    return home, env


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency(samples: int, url: str | None) -> dict[str, float]:
    home, env = _home(url, {"sleeper": {"command": ["sleep", "60"], "max_concurrency": 1000}})
    ctx = open_ctx(load_settings(env))
    boards_svc.create(ctx, "default")
    daemon = subprocess.Popen([sys.executable, "-m", "agentkanban", "daemon"],
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    user = Actor("bench")
    out: list[float] = []
    pids: list[int] = []
    try:
        time.sleep(3)  # let the daemon start and settle
        rng = random.Random(1)
        for i in range(samples):
            time.sleep(rng.uniform(0.1, 0.6))  # do not line up with the daemon's poll
            start = time.time()
            t = tasks.create(ctx, "default", title=f"latency {i}", actor=user, assignee="sleeper").task
            deadline = time.monotonic() + 30
            while True:
                detail = tasks.show(ctx, "default", t.id)
                spawned = [e for e in detail.events if e.kind == "spawned"]
                if spawned:
                    out.append(spawned[0].created_at - start)
                    pids.append(spawned[0].payload["pid"])
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"task {t.id} was not spawned within 30 s")
                time.sleep(0.005)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        for pid in pids:
            if not pid:
                continue
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    ms = [x * 1000 for x in out]
    return {"p50": statistics.median(ms), "p90": _pct(ms, 90), "max": max(ms), "n": len(ms)}


def idle_pass(n_tasks: int, url: str | None, ready_unassigned: int) -> dict[str, float]:
    """A board of ``n_tasks``: mostly done, some blocked, todo children waiting on a blocked
    parent, some in triage; plus ``ready_unassigned`` ready tasks nobody can take."""
    home, env = _home(url, {"coder": {"command": ["true"]}})
    ctx = open_ctx(load_settings(env))
    boards_svc.create(ctx, "default")
    user = Actor("bench")
    t0 = time.monotonic()
    blocker = tasks.create(ctx, "default", title="blocked parent", actor=user).task
    transitions.block(ctx, "default", blocker.id, actor=user, reason="bench")
    left = n_tasks - 1 - ready_unassigned
    plan = [("done", int(left * 0.7)), ("blocked", int(left * 0.15)), ("todo", int(left * 0.1))]
    plan.append(("triage", left - sum(n for _, n in plan)))
    for kind, count in plan:
        for i in range(count):
            if kind == "todo":
                tasks.create(ctx, "default", title=f"waiting {i}", actor=user, assignee="coder",
                             parents=[blocker.id])
            elif kind == "triage":
                tasks.create(ctx, "default", title=f"idea {i}", actor=user, triage=True)
            else:
                t = tasks.create(ctx, "default", title=f"{kind} {i}", actor=user, assignee="coder").task
                if kind == "done":
                    transitions.complete(ctx, "default", t.id, actor=user, summary="done")
                else:
                    transitions.block(ctx, "default", t.id, actor=user, reason="bench")
    for i in range(ready_unassigned):
        tasks.create(ctx, "default", title=f"nobody's {i}", actor=user)
    build = time.monotonic() - t0
    d = Dispatcher(ctx)
    first = d.tick()
    assert not first.spawned and not first.errors, first
    times = []
    for _ in range(20):
        s = time.perf_counter()
        r = d.tick()
        times.append((time.perf_counter() - s) * 1000)
        assert not r.spawned and r.promoted == 0
    return {"p50": statistics.median(times), "max": max(times), "build_s": build}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--postgres", action="store_true",
                    help="start a throwaway PostgreSQL cluster (the test suite's) and use it")
    args = ap.parse_args()
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pg import PgCluster, PgDatabases

        cluster = PgCluster()
        cluster.start()
        try:
            dbs = PgDatabases(None, cluster)
            args.database_url = "postgresql"
            args.new_url = dbs.new_url
            _run(args)
        finally:
            cluster.stop()
        return
    args.new_url = lambda: args.database_url  # a given URL is used as is (one phase per run)
    _run(args)


def _run(args: argparse.Namespace) -> None:
    backend = "postgresql" if args.database_url else "sqlite"
    lat = latency(args.samples, args.new_url())
    print(f"| ready -> spawned ({backend}, daemon, {lat['n']:.0f} samples) | p50 {lat['p50']:.0f} ms | "
          f"p90 {lat['p90']:.0f} ms | max {lat['max']:.0f} ms |")
    for ready in (0, 1000):
        idle = idle_pass(args.tasks, args.new_url(), ready)
        print(f"| idle pass, {args.tasks} tasks, {ready} ready unassigned ({backend}) | "
              f"p50 {idle['p50']:.1f} ms | max {idle['max']:.1f} ms | (board built in {idle['build_s']:.0f} s) |")


if __name__ == "__main__":
    main()
