#!/usr/bin/env python3
"""Remote runner benchmarks: a real ``kanban serve`` (SQLite, its local dispatcher on) and real
``kanban runner`` processes on 127.0.0.1, each runner with its own KANBAN_HOME and runner.yaml
holding one profile, ``noop``, that the server's own config does not have (so only runners take
the tasks).

1. ready -> running through one idle runner: tasks are created one at a time (``POST /api/tasks``,
   assignee ``noop``) while the runner waits in its long poll; each is done before the next.
   Latency is the attempt's ``started_at`` (the claim, written by the server) minus the task's
   ``created_at``, both read from the server's database afterwards, so polling adds nothing.
   ready -> done is the attempt's end (the worker's ``complete``) minus ``created_at``.
2. Tasks done per second with 1, 2 and 4 runners (each with ``--capacity`` workers): ``--tasks``
   tasks wait on one gate task; completing the gate makes them all ready in one transaction, and
   the rate is their count over the time from that commit to the last attempt's end. CPU is read
   from /proc: the machine's busy share over the phase, the server's, the runners' own and their
   workers' (reaped children) seconds.
3. What idle runners cost a server that is being written to: ``POST /api/tasks`` from one client
   (tasks for a profile no runner has, on a board of their own) with no runner, then with
   ``--idle`` runners waiting in their long polls, twice over. Every write wakes the waiting polls.

Worker kinds (the ``noop`` profile's command; each completes its task at once):

* ``cli``: ``python -m agentkanban complete {task_id} --summary ok`` (the CLI over HTTP, as an
  agent's ``kanban complete`` would be);
* ``python``: ``python -c`` with a few lines of urllib: one ``POST /api/verbs/complete``;
* ``curl``: ``sh -c 'curl ...'``, the same POST, no Python started (isolates the runner and server).

    python bench/runners_bench.py [--samples 30] [--tasks 200] [--cli-tasks 80] [--runners 1,2,4] [--capacity 4]
                                  [--workers cli,python,curl] [--idle 4] [--creates 300] [--src DIR]

``--src DIR`` runs the server from another checkout's ``src`` (the code before a change).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from api_bench import pct  # the same percentile as the API benchmark (bench/ is on sys.path)

PROFILE = "noop"
CLK = os.sysconf("SC_CLK_TCK")

PY_WORKER = """\
import json, os, urllib.request
req = urllib.request.Request(
    os.environ["KANBAN_URL"] + "/api/verbs/complete", method="POST",
    data=json.dumps({"tasks": [os.environ["KANBAN_TASK_ID"]], "summary": "ok"}).encode(),
    headers={"Authorization": "Bearer " + os.environ["KANBAN_RUN_TOKEN"],
             "X-Kanban-Run-Id": os.environ["KANBAN_RUN_ID"], "Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=30).read()
"""

CURL_WORKER = (
    'exec curl -sS -f -o /dev/null -X POST -H "Authorization: Bearer $KANBAN_RUN_TOKEN" '
    '-H "X-Kanban-Run-Id: $KANBAN_RUN_ID" -H "Content-Type: application/json" '
    '--data "{\\"tasks\\": [\\"$KANBAN_TASK_ID\\"], \\"summary\\": \\"ok\\"}" '
    '"$KANBAN_URL/api/verbs/complete"')


def worker_command(kind: str) -> list[str]:
    if kind == "cli":
        return [sys.executable, "-m", "agentkanban", "complete", "{task_id}", "--summary", "ok"]
    if kind == "python":
        return [sys.executable, "-c", PY_WORKER]
    if kind == "curl":
        return ["sh", "-c", CURL_WORKER]
    raise SystemExit(f"unknown worker kind {kind!r} (cli, python, curl)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- CPU from /proc ------------------------------------------------------------------------------
def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of every CPU since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of a process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return (utime + stime) / CLK, (cutime + cstime) / CLK


# -- the server ----------------------------------------------------------------------------------
class Server:
    def __init__(self, root: Path, src: str | None = None) -> None:
        self.home = root / "server"
        self.home.mkdir()
        # No profile named `noop` here: the local dispatcher must leave those tasks to runners. No
        # board-wide cap below 4 runners x their capacity.
        (self.home / "config.yaml").write_text(yaml.safe_dump(
            {"dispatch": {"max_in_progress": 1000}}))
        self.token = secrets.token_urlsafe(24)
        self.env = {**os.environ, "KANBAN_HOME": str(self.home), "KANBAN_TOKEN": self.token}
        self.env.pop("KANBAN_DATABASE_URL", None)
        if src:  # the server from another checkout (the code before a change); runners from this one
            self.env["PYTHONPATH"] = str(Path(src).resolve())
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = self.home / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=60,
                                 headers={"Authorization": f"Bearer {self.token}"})

    def __enter__(self) -> Server:
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agentkanban", "serve", "--host", "127.0.0.1", "--port", port,
                 "--no-notify"], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"kanban serve exited:\n{self.log.read_text()}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("kanban serve did not answer /healthz")
            time.sleep(0.1)
        self.db = sqlite3.connect(f"file:{self.home / 'kanban.db'}?mode=ro", uri=True,
                                  isolation_level=None, timeout=30)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def call(self, method: str, path: str, **kw: Any) -> Any:
        r = self.http.request(method, path, **kw)
        if r.status_code >= 400:
            raise SystemExit(f"{method} {path} -> {r.status_code}: {r.text}")
        return r.json()

    def create(self, title: str, **fields: Any) -> str:
        return str(self.call("POST", "/api/tasks", json={"title": title, **fields})["task"]["id"])

    def status(self, task_id: str) -> str | None:
        row = self.db.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return row[0] if row else None

    def holder(self, task_id: str) -> str:
        row = self.db.execute("SELECT status, claim_lock FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return f"status {row[0]}, claim {row[1]}" if row else "nobody: no such task"

    def done_count(self, ids: list[str]) -> int:
        marks = ",".join("?" * len(ids))
        return int(self.db.execute(f"SELECT count(*) FROM tasks WHERE status = 'done' AND id IN ({marks})",
                                   ids).fetchone()[0])

    def attempts(self, ids: list[str]) -> dict[str, list[tuple[float, float | None, str | None]]]:
        """Each task's attempts: (started_at, ended_at, outcome), oldest first."""
        marks = ",".join("?" * len(ids))
        out: dict[str, list[tuple[float, float | None, str | None]]] = {t: [] for t in ids}
        for tid, start, end, outcome in self.db.execute(
                f"SELECT task_id, started_at, ended_at, outcome FROM runs WHERE task_id IN ({marks}) "
                "ORDER BY id", ids):
            out[tid].append((start, end, outcome))
        return out

    def created(self, ids: list[str]) -> dict[str, float]:
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, created_at FROM tasks WHERE id IN ({marks})", ids).fetchall())

    def event_time(self, task_id: str, kind: str) -> float:
        row = self.db.execute("SELECT min(created_at) FROM events WHERE task_id = ? AND kind = ?",
                              (task_id, kind)).fetchone()
        if row[0] is None:
            raise SystemExit(f"no {kind} event for {task_id}")
        return float(row[0])


# -- runners -------------------------------------------------------------------------------------
class Runner:
    def __init__(self, server: Server, root: Path, name: str, kind: str, capacity: int) -> None:
        self.name = name
        self.home = root / f"runner-{name}"
        self.home.mkdir()
        token = server.call("POST", "/api/runners/tokens", json={"name": name})["token"]
        token_file = self.home / "token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        (self.home / "runner.yaml").write_text(yaml.safe_dump({
            "server": server.url, "token_file": str(token_file), "capacity": capacity,
            "profiles": {PROFILE: {"command": worker_command(kind)}}}))
        # What a second machine would have: no database, none of the server's variables.
        env = {"PATH": os.environ["PATH"], "HOME": str(self.home), "KANBAN_HOME": str(self.home)}
        self.log = self.home / "runner.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "runner"], env=env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def registered(self) -> bool:
        if self.proc.poll() is not None:
            raise SystemExit(f"runner {self.name} exited with {self.proc.returncode}:\n"
                             f"{self.log.read_text()}")
        return "registered as runner" in self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Twice: the first lets workers finish (there are none left), the second does not wait
            # for the claim's long poll to end.
            self.proc.send_signal(signal.SIGTERM)
            time.sleep(0.05)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Fleet:
    def __init__(self, server: Server, root: Path, prefix: str, n: int, kind: str, capacity: int) -> None:
        self.runners = [Runner(server, root, f"{prefix}-{i + 1}", kind, capacity) for i in range(n)]

    def __enter__(self) -> Fleet:
        deadline = time.monotonic() + 60
        while not all(r.registered() for r in self.runners):
            if time.monotonic() > deadline:
                raise SystemExit("the runners did not register within 60 s")
            time.sleep(0.1)
        time.sleep(1.0)  # every runner in its long poll
        return self

    def __exit__(self, *exc: Any) -> None:
        for r in self.runners:
            r.stop()
        # A stopped runner's long poll lives on in the server until its next look (at most
        # RECHECK_SECONDS, 2 s, without writes), and that look could still claim a task for it.
        time.sleep(2.5)

    def cpu(self) -> tuple[float, float]:
        own = children = 0.0
        for r in self.runners:
            a, b = proc_cpu(r.proc.pid)
            own, children = own + a, children + b
        return own, children


def wait_until(predicate: Any, timeout: float, what: Any, poll: float) -> None:
    """Poll ``predicate`` until true; ``what`` (a string, or a callable making one at the time)
    names it when it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what() if callable(what) else what}: not within {timeout:.0f} s")
        time.sleep(poll)


# -- 1. latency ----------------------------------------------------------------------------------
def latency(server: Server, root: Path, kind: str, samples: int) -> dict[str, Any]:
    rng = random.Random(1)
    ids: list[str] = []
    with Fleet(server, root, f"lat-{kind}", 1, kind, 2):
        for i in range(samples):
            time.sleep(rng.uniform(0.2, 0.5))  # not in step with anything
            tid = server.create(f"latency {kind} {i}", assignee=PROFILE)
            ids.append(tid)
            wait_until(lambda t=tid: server.status(t) == "done", 60,
                       lambda t=tid: f"task {t} done ({server.holder(t)})", 0.01)
    created, runs = server.created(ids), server.attempts(ids)
    bad = [t for t in ids if len(runs[t]) != 1 or runs[t][0][2] != "completed"]
    if bad:
        raise SystemExit(f"{len(bad)} tasks did not finish in one completed attempt: {bad[:5]}")
    claim = [(runs[t][0][0] - created[t]) * 1000 for t in ids]
    done = [(runs[t][0][1] - created[t]) * 1000 for t in ids]  # type: ignore[operator]
    return {"kind": kind, "n": len(ids),
            "claim_p50": pct(claim, 50), "claim_p99": pct(claim, 99), "claim_max": max(claim),
            "done_p50": pct(done, 50), "done_p99": pct(done, 99)}


# -- 2. throughput -------------------------------------------------------------------------------
def throughput(server: Server, root: Path, kind: str, n_runners: int, capacity: int,
               n_tasks: int) -> dict[str, Any]:
    with Fleet(server, root, f"tp-{kind}-{n_runners}", n_runners, kind, capacity) as fleet:
        gate = server.create(f"gate {kind} x{n_runners}")
        ids = [server.create(f"work {kind} x{n_runners} {i}", assignee=PROFILE, parents=[gate])
               for i in range(n_tasks)]
        time.sleep(0.5)
        busy0, total0 = machine_jiffies()
        srv0, _ = proc_cpu(server.proc.pid)  # type: ignore[union-attr]
        own0, kids0 = fleet.cpu()
        wall0 = time.monotonic()
        server.call("POST", "/api/verbs/complete", json={"tasks": [gate], "summary": "go"})
        wait_until(lambda: server.done_count(ids) == len(ids), 600, f"{n_tasks} tasks done", 0.1)
        # The last exits are reported just after the last completion: let them be counted.
        time.sleep(0.3)
        wall = time.monotonic() - wall0
        busy1, total1 = machine_jiffies()
        srv1, _ = proc_cpu(server.proc.pid)  # type: ignore[union-attr]
        own1, kids1 = fleet.cpu()
    start = server.event_time(gate, "completed")
    runs = server.attempts(ids)
    ends = [a[1] for t in ids for a in runs[t] if a[1] is not None]
    extra = sum(len(runs[t]) - 1 for t in ids)
    failed = sum(1 for t in ids for a in runs[t] if a[2] != "completed")
    elapsed = max(ends) - start
    return {"kind": kind, "runners": n_runners, "capacity": capacity, "n": n_tasks,
            "seconds": elapsed, "rate": n_tasks / elapsed, "retries": extra, "failed": failed,
            "machine_busy": (busy1 - busy0) / max(1, total1 - total0), "busy_cpu": (busy1 - busy0) / CLK,
            "server_cpu": srv1 - srv0, "runners_cpu": own1 - own0, "workers_cpu": kids1 - kids0,
            "wall": wall}


# -- 3. what idle runners cost -----------------------------------------------------------------
def idle_cost(server: Server, root: Path, n_idle: int, creates: int, rounds: int = 2) -> list[dict[str, Any]]:
    """Creates/s from one client, and the server's CPU per create, with no runner and with
    ``n_idle`` runners waiting in their long polls, alternated ``rounds`` times. The tasks go to a
    board of their own, for a profile no runner has: every create is a write that wakes the polls,
    and none is work for them."""
    board = "idle-bench"
    server.call("POST", "/api/boards", json={"slug": board})
    out: list[dict[str, Any]] = []

    def run(k: int, r: int) -> None:
        before, _ = proc_cpu(server.proc.pid)  # type: ignore[union-attr]
        t0 = time.perf_counter()
        for i in range(creates):
            server.call("POST", "/api/tasks", params={"board": board},
                        json={"title": f"elsewhere {k} {r} {i}", "assignee": "elsewhere"})
        wall = time.perf_counter() - t0
        after, _ = proc_cpu(server.proc.pid)  # type: ignore[union-attr]
        out.append({"idle": k, "round": r, "rate": creates / wall,
                    "server_ms": (after - before) / creates * 1000})

    for r in range(rounds):
        run(0, r)
        with Fleet(server, root, f"idle-{r}", n_idle, "curl", 1):
            run(n_idle, r)
    return out


# -- output --------------------------------------------------------------------------------------
def render(lat: list[dict[str, Any]], tp: list[dict[str, Any]], idle: list[dict[str, Any]],
           src: str | None) -> str:
    load = os.getloadavg()[0]
    out = [f"Server code: {src or 'this tree'}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.system()} "
           f"{platform.machine()}, {os.cpu_count()} CPUs (1-minute load average at the end: {load:.1f}), "
           f"Python {platform.python_version()}, SQLite, one `kanban serve` with its dispatcher on, "
           "runners on the same machine.", ""]
    if lat:
        out += ["| one idle runner, tasks created one at a time | samples | ready -> running p50 | p99 | max "
                "| ready -> done p50 | p99 |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in lat:
            out.append(f"| worker `{r['kind']}` | {r['n']} | {r['claim_p50']:.1f} ms | {r['claim_p99']:.1f} ms "
                       f"| {r['claim_max']:.1f} ms | {r['done_p50']:.0f} ms | {r['done_p99']:.0f} ms |")
        out.append("")
    if tp:
        out += ["| worker | runners x capacity | tasks | seconds | tasks done/s | vs 1 runner | machine CPU busy "
                "| server CPU | runners' CPU | workers' CPU | CPU per task | other processes' CPU | retries |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        base: dict[str, float] = {}
        for r in tp:
            base.setdefault(r["kind"], r["rate"])
            ours = r["server_cpu"] + r["runners_cpu"] + r["workers_cpu"]
            per_task = ours / r["n"] * 1000
            out.append(
                f"| `{r['kind']}` | {r['runners']} x {r['capacity']} | {r['n']} | {r['seconds']:.1f} "
                f"| {r['rate']:.1f} | {r['rate'] / base[r['kind']]:.2f}x | {r['machine_busy'] * 100:.0f} % "
                f"| {r['server_cpu']:.1f} s | {r['runners_cpu']:.1f} s | {r['workers_cpu']:.1f} s "
                f"| {per_task:.0f} ms | {max(0.0, r['busy_cpu'] - ours):.1f} s | {r['retries']} |")
        out.append("")
        out.append("CPU per task: server + runners + workers, over the tasks. Machine CPU busy: the share "
                   f"of all {os.cpu_count()} CPUs' time that was not idle during the phase; other processes' "
                   "CPU: the busy CPU time that was not the server's, the runners' or their workers' (this "
                   "script and anything else running on the machine).")
        out.append("")
    if idle:
        out += ["| runners idle in their long poll | round | `POST /api/tasks`, 1 client (tasks/s) "
                "| server CPU per create |", "|---:|---:|---:|---:|"]
        for r in idle:
            out.append(f"| {r['idle']} | {r['round'] + 1} | {r['rate']:.0f} | {r['server_ms']:.1f} ms |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=30, help="latency samples per worker kind (0: skip)")
    ap.add_argument("--tasks", type=int, default=200, help="tasks per throughput phase (0: skip)")
    ap.add_argument("--cli-tasks", type=int, default=80,
                    help="tasks per throughput phase of the cli worker (each starts the CLI: slower)")
    ap.add_argument("--runners", default="1,2,4", help="runner counts of the throughput phases")
    ap.add_argument("--capacity", type=int, default=4, help="workers at once per runner")
    ap.add_argument("--workers", default="cli,python,curl", help="worker kinds: cli, python, curl")
    ap.add_argument("--idle", type=int, default=4, help="idle runners of the last part (0: skip)")
    ap.add_argument("--creates", type=int, default=300, help="creates per round of the last part")
    ap.add_argument("--src", default=None, help="run the server from this checkout's src")
    ap.add_argument("--keep", action="store_true", help="keep the temporary homes (logs, database)")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.workers.split(",") if k.strip()]
    for k in kinds:
        worker_command(k)
    if "curl" in kinds and not shutil.which("curl"):
        raise SystemExit("the curl worker needs curl on PATH")
    counts = [int(x) for x in args.runners.split(",") if x.strip()]
    root = Path(tempfile.mkdtemp(prefix="kanban-runners-bench-"))
    lat: list[dict[str, Any]] = []
    tp: list[dict[str, Any]] = []
    idle: list[dict[str, Any]] = []
    try:
        with Server(root, args.src) as server:
            if args.samples:
                for kind in kinds:
                    print(f"latency, worker {kind} ...", file=sys.stderr, flush=True)
                    lat.append(latency(server, root, kind, args.samples))
                    print(f"  {lat[-1]}", file=sys.stderr, flush=True)
            if args.tasks:
                for kind in kinds:
                    for n in counts:
                        print(f"throughput, worker {kind}, {n} runner(s) ...", file=sys.stderr, flush=True)
                        size = args.cli_tasks if kind == "cli" else args.tasks
                        tp.append(throughput(server, root, kind, n, args.capacity, size))
                        print(f"  {tp[-1]}", file=sys.stderr, flush=True)
            if args.idle:
                print(f"creates with 0 and {args.idle} idle runners ...", file=sys.stderr, flush=True)
                idle = idle_cost(server, root, args.idle, args.creates)
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(render(lat, tp, idle, args.src))


if __name__ == "__main__":
    main()
