"""Board benchmark (SQLite): service-layer create rate, board listing and `kanban list --json` wall time.

    python bench/board_bench.py [--tasks 10000] [--create 1000] [--repeat 7]

Targets: 1,000 creates under 2 s; the 10,000-task board as JSON under 100 ms through the services;
`kanban list --json` under 400 ms wall (Python start-up included).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import orjson

import agentkanban
from agentkanban.config import load_settings
from agentkanban.services import Actor, maintenance, open_ctx, tasks, views


def _populate(ctx, n: int, rng: random.Random) -> list[str]:  # type: ignore[no-untyped-def]
    user = Actor("bench")
    ids: list[str] = []
    for i in range(n):
        parents = rng.sample(ids, k=rng.randint(1, 3)) if ids and rng.random() < 0.2 else []
        t = tasks.create(ctx, "default", title=f"task {i}", actor=user, parents=parents,
                         assignee=f"agent{i % 8}", priority=rng.randint(0, 9),
                         body="Some body text " * 5).task
        ids.append(t.id)
    return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--create", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(7)
    results: dict[str, float] = {}

    with tempfile.TemporaryDirectory() as d:
        ctx = open_ctx(load_settings({"KANBAN_HOME": d}))
        t0 = time.perf_counter()
        _populate(ctx, args.create, rng)
        results["create_1000_s"] = time.perf_counter() - t0
        results["create_per_s"] = args.create / results["create_1000_s"]

    with tempfile.TemporaryDirectory() as d:
        env = {"KANBAN_HOME": d}
        ctx = open_ctx(load_settings(env))
        _populate(ctx, args.tasks, rng)

        def board(label: str) -> None:
            samples, view_only = [], []
            for _ in range(args.repeat):
                view = body = None  # free the previous board outside the timed part, as a server does
                t0 = time.perf_counter()
                view = views.board_view(ctx, "default")
                t1 = time.perf_counter()
                body = orjson.dumps(view)  # what the API and `list --json` use
                samples.append(time.perf_counter() - t0)
                view_only.append(t1 - t0)
            results[f"board_json_ms_p50{label}"] = statistics.median(samples) * 1000
            results[f"board_view_only_ms_p50{label}"] = statistics.median(view_only) * 1000
            results["board_json_bytes"] = len(body or b"")

        # A freshly filled database has no planner statistics; a running install has them (the
        # dispatcher refreshes them at start and whenever the task count doubles or halves; `kanban gc`
        # and `db upgrade` too).
        board("_no_stats")
        maintenance.refresh_stats(ctx)
        board("")
        # An installed package has its bytecode compiled by pip; an editable one under
        # PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
        compileall.compile_dir(os.path.dirname(agentkanban.__file__), quiet=1)
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "agentkanban", "list", "--json"],
                                 env={**os.environ, **env}, capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
        assert json.loads(out.stdout)["tasks"]
        results["cli_list_json_ms_p50"] = statistics.median(walls) * 1000
        startup = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            startup.append(time.perf_counter() - t0)
        results["python_startup_ms_p50"] = statistics.median(startup) * 1000

    for k, v in results.items():
        print(f"{k:28s} {v:12.1f}")


if __name__ == "__main__":
    main()
