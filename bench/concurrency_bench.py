"""PostgreSQL with several writers and several dispatchers.

1. Writes per second with 1, 4 and 16 concurrent writer processes, each on its own board, each
   write one service call (a create, or a completion that promotes nothing, or a comment).
2. Tasks done per second with 1, 2 and 3 ``kanban daemon`` processes and workers that complete at
   once (a shell script calling ``kanban complete``).

Usage: ``python bench/concurrency_bench.py [--seconds 6] [--tasks 120] [--database-url URL]``.
Without a URL it starts a throwaway PostgreSQL cluster from the installed server binaries (as the
tests do). Run it with another checkout's ``src`` first on ``PYTHONPATH`` to measure that version
in the same run. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.pg

from agentkanban.config import load_settings  # noqa: E402
from agentkanban.services import Actor, boards, comments, open_ctx, tasks, transitions  # noqa: E402

WORKER = Path(__file__).resolve().parents[1] / "tests" / "dispatch" / "workers" / "record.sh"


def _writer(url: str, home: str, board: str, seconds: float, ready: Any, out: mp.Queue) -> None:
    ctx = open_ctx(load_settings({"KANBAN_HOME": home, "KANBAN_DATABASE_URL": url}))
    me = Actor(board)
    tasks.create(ctx, board, title="warm-up", actor=me)
    ready.wait()  # every process imported and connected before the clock starts
    n, deadline = 0, time.time() + seconds
    while time.time() < deadline:
        tid = tasks.create(ctx, board, title=f"w {n}", actor=me).task.id
        comments.add(ctx, board, tid, "note", actor=me)
        transitions.complete(ctx, board, tid, actor=me, summary="ok")
        n += 3
    out.put(n)


def writes_per_second(url: str, writers: int, seconds: float) -> float:
    home = tempfile.mkdtemp(prefix="kanban-bench-")
    ctx = open_ctx(load_settings({"KANBAN_HOME": home, "KANBAN_DATABASE_URL": url}))
    names = [f"w{writers}-{i}" for i in range(writers)]
    for name in names:
        boards.create(ctx, name)
    spawn = mp.get_context("spawn")
    out: mp.Queue = spawn.Queue()
    ready = spawn.Barrier(writers)
    procs = [spawn.Process(target=_writer, args=(url, home, n, seconds, ready, out)) for n in names]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join(60)
    return total / seconds


def done_per_second(url: str, daemons: int, n_tasks: int) -> float:
    home = Path(tempfile.mkdtemp(prefix="kanban-bench-"))
    record = home / "record.txt"
    (home / "config.yaml").write_text(yaml.safe_dump({
        "profiles": {"noop": {"command": [str(WORKER), str(record)], "max_concurrency": 8,
                              "env": {"KANBAN_PY": sys.executable}}},
        "dispatch": {"interval_seconds": 0.3, "max_in_progress": 8}}))
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": url}
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": url}))
    board = f"d{daemons}"
    boards.create(ctx, board)
    env["KANBAN_BOARD"] = board
    ids = [tasks.create(ctx, board, title=f"t{i}", actor=Actor("bench"), assignee="noop").task.id
           for i in range(n_tasks)]
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "agentkanban", "daemon", "--interval", "0.3"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(daemons)]
    try:
        while True:
            left = [t for t in tasks.list_tasks(ctx, board, statuses=["done"]) if t.id in set(ids)]
            if len(left) == n_tasks:
                break
            if time.monotonic() - t0 > 900:
                raise RuntimeError("tasks not done within 900 s")
            time.sleep(0.2)
        return n_tasks / (time.monotonic() - t0)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--tasks", type=int, default=120)
    ap.add_argument("--database-url")
    ap.add_argument("--skip-dispatch", action="store_true")
    args = ap.parse_args()
    cluster = None
    url = args.database_url
    if url is None:
        from tests.pg import PgCluster, PgDatabases

        cluster = PgCluster()
        cluster.start()
        url = PgDatabases(None, cluster).new_url()
    try:
        print("| writers | writes/s | per writer |\n|---|---|---|")
        for n in (1, 4, 16):
            rate = writes_per_second(url, n, args.seconds)
            print(f"| {n} | {rate:,.0f} | {rate / n:,.0f} |", flush=True)
        if not args.skip_dispatch:
            print("\n| dispatchers | tasks done/s |\n|---|---|")
            for n in (1, 2, 3):
                print(f"| {n} | {done_per_second(url, n, args.tasks):.1f} |", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
