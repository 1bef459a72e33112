#!/usr/bin/env python3
"""Benchmark of ``kanban serve`` against a live server on SQLite.

Starts ``python -m agentkanban serve --port 0`` in a fresh ``KANBAN_HOME`` and measures, for each
board size N:

* ``POST /tasks`` from one keep-alive client (tasks per second, latency);
* ``GET /board`` on the full board (p50/p99, response size);
* write -> WebSocket event latency, for writes made by the server process (``PATCH`` through the
  API) and for writes made by another process (a writer calling the services directly, as the CLI
  and workers do). Latency is from just before the write starts to the event's arrival.

Optionally also runs the shared API workload script against the same server
(``--workload path/to/workload.py``), which drives the reference dashboard's contract.

    python bench/api_bench.py --sizes 1000,10000 --out bench/api.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ASSIGNEES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]

CROSS_WRITER = r"""
import sys, time
from agentkanban.config import load_settings
from agentkanban.services import open_ctx, tasks
ctx = open_ctx(load_settings())
board, spacing = sys.argv[1], float(sys.argv[2])
ids = sys.stdin.read().split()
print("ready", flush=True)
sys.stdin.close()
for i, tid in enumerate(ids):
    t0 = time.time()
    tasks.reprioritize(ctx, board, tid, 100 + i)
    print(tid, repr(t0), flush=True)
    time.sleep(spacing)
"""


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100
    f = int(k)
    c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan")}


class Server:
    def __init__(self, home: Path, token: str) -> None:
        self.home = home
        self.token = token
        self.env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_TOKEN": token}
        self.env.pop("KANBAN_DATABASE_URL", None)
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentkanban", "serve", "--port", "0", "--no-dispatch", "--no-notify"],
            env=self.env, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = re.search(r"listening on ([\d.]+):(\d+)", self.proc.stdout.readline())
            if m:
                self.base = f"http://{m.group(1)}:{m.group(2)}"
                break
        if not self.base:
            raise SystemExit("the server did not start")
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit("the server did not answer /healthz")

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def phase_create(client: httpx.Client, base: str, board: str, n: int, rng: random.Random) -> tuple[dict, list[str]]:
    ids: list[str] = []
    lat: list[float] = []
    server: list[float] = []
    t0 = time.perf_counter()
    for i in range(n):
        parents = rng.sample(ids, min(len(ids), rng.randint(1, 3))) if ids and rng.random() < 0.2 else []
        body = {"title": f"bench task {i}", "body": "lorem ipsum dolor sit amet " * rng.randint(0, 4),
                "assignee": rng.choice(ASSIGNEES), "priority": rng.randint(0, 9), "parents": parents}
        ts = time.perf_counter()
        r = client.post(f"{base}/api/tasks", params={"board": board}, json=body)
        lat.append(time.perf_counter() - ts)
        server.append(server_ms(r))
        r.raise_for_status()
        ids.append(r.json()["task"]["id"])
    elapsed = time.perf_counter() - t0
    return {"tasks_per_s": round(n / elapsed, 1), **summary_ms(lat), "server": summary_ms(server)}, ids


def server_ms(resp: httpx.Response) -> float:
    m = re.search(r"dur=([\d.]+)", resp.headers.get("server-timing", ""))
    return float(m.group(1)) / 1000 if m else float("nan")


def phase_board(client: httpx.Client, base: str, board: str, samples: int = 20) -> dict:
    client.get(f"{base}/api/board", params={"board": board}).raise_for_status()
    lat, server, size = [], [], 0
    for _ in range(samples):
        ts = time.perf_counter()
        r = client.get(f"{base}/api/board", params={"board": board})
        lat.append(time.perf_counter() - ts)
        server.append(server_ms(r))
        size = len(r.content)
    return {**summary_ms(lat), "server": summary_ms(server), "bytes": size}


async def _collect(ws: Any, want: set[str], received: dict[str, float], done: asyncio.Event) -> None:
    async for raw in ws:
        now = time.time()
        for e in json.loads(raw)["events"]:
            if e["task_id"] in want and e["task_id"] not in received:
                received[e["task_id"]] = now
        if len(received) >= len(want):
            done.set()
            return


async def phase_events_same(base: str, token: str, board: str, ids: list[str], spacing: float) -> dict:
    latest = httpx.get(f"{base}/api/board", params={"board": board},
                       headers={"authorization": f"Bearer {token}"}).json()["latest_event_id"]
    ws_url = base.replace("http", "ws") + f"/api/events?since={latest}&board={board}&token={token}"
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    done = asyncio.Event()
    async with websockets.connect(ws_url) as ws, httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"}) as client:
        reader = asyncio.create_task(_collect(ws, set(ids), received, done))
        await asyncio.sleep(0.5)
        for i, tid in enumerate(ids):
            sent[tid] = time.time()
            r = await client.patch(f"{base}/api/tasks/{tid}", params={"board": board}, json={"priority": 50 + i})
            r.raise_for_status()
            await asyncio.sleep(spacing)
        try:
            await asyncio.wait_for(done.wait(), 10)
        finally:
            reader.cancel()
    lat = [received[t] - sent[t] for t in ids if t in received]
    return {**summary_ms(lat), "missing": len(ids) - len(lat)}


async def phase_events_cross(server: Server, board: str, ids: list[str], spacing: float) -> dict:
    base, token = server.base, server.token
    latest = httpx.get(f"{base}/api/board", params={"board": board},
                       headers={"authorization": f"Bearer {token}"}).json()["latest_event_id"]
    ws_url = base.replace("http", "ws") + f"/api/events?since={latest}&board={board}&token={token}"
    received: dict[str, float] = {}
    done = asyncio.Event()
    async with websockets.connect(ws_url) as ws:
        reader = asyncio.create_task(_collect(ws, set(ids), received, done))
        await asyncio.sleep(0.5)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CROSS_WRITER, board, str(spacing), env=server.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(" ".join(ids).encode())
        proc.stdin.close()
        out = (await proc.stdout.read()).decode().split("\n")
        await proc.wait()
        sent = {tid: float(ts) for tid, ts in (line.split() for line in out[1:] if line.strip())}
        try:
            await asyncio.wait_for(done.wait(), 10)
        finally:
            reader.cancel()
    lat = [received[t] - sent[t] for t in ids if t in received and t in sent]
    return {**summary_ms(lat), "missing": len(ids) - len(lat)}


def run_size(server: Server, n: int, args: argparse.Namespace) -> dict:
    board = f"bench-{n}"
    headers = {"authorization": f"Bearer {server.token}"}
    res: dict[str, Any] = {"n": n}
    with httpx.Client(headers=headers, timeout=600) as client:
        client.post(f"{server.base}/api/boards", json={"slug": board}).raise_for_status()
        print(f"[{n}] creating ...", file=sys.stderr, flush=True)
        res["create"], ids = phase_create(client, server.base, board, n, random.Random(n))
        print(f"[{n}] GET /board ...", file=sys.stderr, flush=True)
        res["board"] = phase_board(client, server.base, board)
    rng = random.Random(7)
    print(f"[{n}] events ...", file=sys.stderr, flush=True)
    res["events_same"] = asyncio.run(phase_events_same(server.base, server.token, board,
                                                       rng.sample(ids, args.event_writes), args.spacing))
    res["events_cross"] = asyncio.run(phase_events_cross(server, board, rng.sample(ids, args.event_writes),
                                                         args.spacing))
    print(f"[{n}] {json.dumps(res)}", file=sys.stderr, flush=True)
    return res


def render(results: list[dict], workload_table: str | None, args: argparse.Namespace) -> str:
    sizes = [r["n"] for r in results]
    rows = [
        ("POST /tasks, 1 client (tasks/s)", lambda r: r["create"]["tasks_per_s"]),
        ("POST /tasks p50 / p99 (ms)", lambda r: f'{r["create"]["p50_ms"]} / {r["create"]["p99_ms"]}'),
        ("POST /tasks in the server p50 / p99 (ms)",
         lambda r: f'{r["create"]["server"]["p50_ms"]} / {r["create"]["server"]["p99_ms"]}'),
        ("GET /board p50 / p99 (ms)", lambda r: f'{r["board"]["p50_ms"]} / {r["board"]["p99_ms"]}'),
        ("GET /board in the server p50 / p99 (ms)",
         lambda r: f'{r["board"]["server"]["p50_ms"]} / {r["board"]["server"]["p99_ms"]}'),
        ("GET /board response (bytes)", lambda r: f'{r["board"]["bytes"]:,}'),
        ("event latency, same process p50 / p99 (ms)",
         lambda r: f'{r["events_same"]["p50_ms"]} / {r["events_same"]["p99_ms"]}'),
        ("event latency, other process p50 / p99 (ms)",
         lambda r: f'{r["events_cross"]["p50_ms"]} / {r["events_cross"]["p99_ms"]}'),
        ("events missing (same / other)",
         lambda r: f'{r["events_same"]["missing"]} / {r["events_cross"]["missing"]}'),
    ]
    lines = ["| figure | " + " | ".join(f"N={n:,}" for n in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    for label, get in rows:
        lines.append(f"| {label} | " + " | ".join(str(get(r)) for r in results) + " |")
    out = "\n".join(lines) + "\n"
    if workload_table:
        out += "\nShared API workload against the same server:\n\n" + workload_table
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--event-writes", type=int, default=200)
    ap.add_argument("--spacing", type=float, default=0.02, help="seconds between event writes")
    ap.add_argument("--workload", default=None, help="path of the shared workload.py to run as well")
    ap.add_argument("--out", default=None, help="write the markdown table here")
    ap.add_argument("--json", default=None, help="write raw results here")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = []
    workload_table = None
    with tempfile.TemporaryDirectory(prefix="kanban-bench-") as tmp:
        with Server(Path(tmp) / "home", secrets.token_urlsafe(24)) as server:
            for n in sizes:
                results.append(run_size(server, n, args))
            if args.workload:
                print("running the shared workload ...", file=sys.stderr, flush=True)
                proc = subprocess.run(
                    [sys.executable, args.workload, "--base-url", server.base + "/api", "--ws-token",
                     server.token, "--sizes", args.sizes, "--quiet"],
                    env={**os.environ, "BENCH_TOKEN": server.token}, capture_output=True, text=True)
                workload_table = proc.stdout if proc.returncode == 0 else f"(workload failed: {proc.stderr[-500:]})\n"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    meta = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.platform()}, "
            f"{os.cpu_count()} CPUs (1-minute load average at the end: {load:.1f}), Python "
            f"{platform.python_version()}, SQLite, one server process. \"in the server\" is the "
            "server's own Server-Timing figure (request in to response start).\n\n")
    table = meta + render(results, workload_table, args)
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
