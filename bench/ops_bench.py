"""Operations benchmark (SQLite): a /metrics scrape, doctor, db check, export, import and backup
on a board of 10,000 tasks with 10,000 ended attempts.

    python bench/ops_bench.py [--tasks 10000] [--repeat 5]

Made through the services (no SQL). Prints one JSON object of seconds (p50 of --repeat runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from agentkanban.config import load_settings
from agentkanban.services import (
    Actor,
    backup,
    doctor,
    export,
    integrity,
    metrics,
    open_ctx,
    runs,
    tasks,
    transitions,
)


def populate(ctx, n: int) -> None:  # type: ignore[no-untyped-def]
    user = Actor("bench")
    for i in range(n):
        t = tasks.create(ctx, "default", title=f"task {i}", actor=user, assignee=f"agent{i % 8}",
                         body="Some body text " * 5).task
        c = runs.claim(ctx, "default", t.id, profile=f"agent{i % 8}", lock="bench", ttl=900)
        assert c is not None
        worker = Actor(f"agent{i % 8}", worker_task=t.id, run_id=c.run_id, run_token=c.token)
        if i % 2:
            transitions.complete(ctx, "default", t.id, actor=worker, summary="ok")
        else:
            transitions.block(ctx, "default", t.id, actor=worker, reason="needs a person")


def p50(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        ctx = open_ctx(load_settings({"KANBAN_HOME": d}))
        populate(ctx, args.tasks)
        tracker = metrics.LatencyTracker()
        t0 = time.perf_counter()
        body, _ = metrics.render(ctx, tracker)
        out["metrics_first_scrape_s"] = time.perf_counter() - t0
        out["metrics_scrape_s"] = p50(lambda: metrics.render(ctx, tracker), args.repeat)
        out["metrics_bytes"] = len(body)
        out["doctor_s"] = p50(lambda: doctor.diagnose(ctx), args.repeat)
        out["db_check_s"] = p50(lambda: integrity.check(ctx), args.repeat)
        out["export_s"] = p50(lambda: sum(1 for _ in export.export(ctx)), args.repeat)
        lines = list(export.export(ctx))
        out["export_lines"] = len(lines)
        with tempfile.TemporaryDirectory() as d2:
            other = open_ctx(load_settings({"KANBAN_HOME": d2}))
            t0 = time.perf_counter()
            export.import_stream(other, lines)
            out["import_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        backup.backup(ctx, Path(d) / "copy.db")
        out["backup_s"] = time.perf_counter() - t0
    print(json.dumps({k: round(v, 4) for k, v in out.items()}, indent=2))


if __name__ == "__main__":
    main()
