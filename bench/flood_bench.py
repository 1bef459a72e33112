"""Health under read load: ``/healthz`` latency while 100 clients read the 10,000-task board.

Starts ``python -m agentkanban serve`` on 127.0.0.1 in a fresh ``KANBAN_HOME`` holding a board of
``--tasks`` tasks, then for ``--seconds`` runs ``--readers`` clients that each fetch
``GET /api/board`` in a loop while one probe asks ``/healthz`` every 50 ms and another creates a
task every 50 ms. Reports the probes' p50/p99/max, the boards served, and the server's peak
resident memory (``VmHWM``) before and at the end of the load.

``--src DIR`` runs the server from another checkout's ``src`` (the code before a change), so both
sides are measured in one sitting::

    python bench/flood_bench.py                      # this tree
    python bench/flood_bench.py --src ../main/src    # the tree before
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "bench-token-0123456789abcdefghijklmnop"


def populate(home: Path, n: int) -> None:
    os.environ["KANBAN_HOME"] = str(home)
    from agentkanban.config import load_settings
    from agentkanban.services import Actor, open_ctx, tasks

    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home)}))
    user = Actor("bench")
    for i in range(n):
        tasks.create(ctx, "default", title=f"task {i}", body="a short body " * 4, actor=user,
                     assignee=f"agent{i % 8}", priority=i % 10)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def reader(base: str, stop: float, served: list[int], errors: list[str]) -> None:
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
        while time.monotonic() < stop:
            try:
                r = await c.get(base + "/api/board")
                served.append(r.status_code)
            except httpx.HTTPError as err:
                errors.append(type(err).__name__)


async def probe(base: str, path: str, stop: float, out: list[float], method: str = "GET") -> None:
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            if method == "GET":
                await c.get(base + path)
            else:
                await c.post(base + path, json={"title": "written under load"})
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)


async def load(base: str, readers: int, seconds: float) -> dict[str, object]:
    stop = time.monotonic() + seconds
    served: list[int] = []
    errors: list[str] = []
    health: list[float] = []
    creates: list[float] = []
    await asyncio.gather(*(reader(base, stop, served, errors) for _ in range(readers)),
                         probe(base, "/healthz", stop, health),
                         probe(base, "/api/tasks", stop, creates, method="POST"))
    ms = lambda xs, q: round(pct(xs, q) * 1000, 1)  # noqa: E731
    return {"health_p50": ms(health, 0.5), "health_p99": ms(health, 0.99),
            "health_max": ms(health, 1.0), "health_n": len(health),
            "create_p50": ms(creates, 0.5), "create_p99": ms(creates, 0.99),
            "boards_200": served.count(200), "boards_503": served.count(503),
            "client_errors": len(errors)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--readers", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--src", default=None, help="run the server from this checkout's src")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="kanban-flood-"))
    populate(home, args.tasks)
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_TOKEN": TOKEN}
    env.pop("KANBAN_DATABASE_URL", None)
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--port", "0",
                             "--no-dispatch", "--no-notify"], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        m = None
        while m is None:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("server did not start")
            m = re.search(r"listening on (127\.0\.0\.1:\d+)", line)
        base = f"http://{m.group(1)}"
        httpx.get(base + "/api/board", headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)
        idle_rss, _ = peak_rss_mb(proc.pid)
        result = asyncio.run(load(base, args.readers, args.seconds))
        _, peak = peak_rss_mb(proc.pid)
        print({"src": args.src or "this tree", "tasks": args.tasks, "readers": args.readers,
               "seconds": args.seconds, "rss_before_load_mb": round(idle_rss),
               "rss_peak_mb": round(peak), **result})
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
