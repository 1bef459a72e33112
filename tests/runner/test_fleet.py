"""Several ``kanban runner`` processes against one real ``kanban serve``: handoffs along a chain of
tasks, label routing, caps held across runners, runners killed, partitioned or revoked, a server
restarted under a running worker, and bad input refused without changing the board.

Every process is real (the server with its dispatcher, the runners, their workers, and the
``kanban`` verbs the workers call over HTTP); the workers are shell scripts."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ..serving import Server, start_server, stop_server
from .conftest import (
    LEASE,
    Runner,
    RunnerPool,
    ended,
    kanban,
    make_token,
    runs,
    server_config,
    sh,
    wait_for,
    workers_under,
)

pytestmark = pytest.mark.slow

# A worker's `kanban`: this interpreter's, whatever the runner's PATH holds.
KANBAN = f"{shlex.quote(sys.executable)} -m agentkanban"
# Profiles of the server's own config.yaml. Their commands are what the local dispatcher would
# run; with runs_on it must leave them to the runners, and "exit 9" would show if it did not.
LOCAL_ONLY = ["sh", "-c", "echo the local dispatcher ran it; exit 9"]
FLEET_PROFILES = {
    "mac": {"command": LOCAL_ONLY, "runs_on": ["macos"]},
    "capped": {"command": LOCAL_ONLY, "max_concurrency": 1, "runs_on": ["remote"]},
}
LONG_LEASE = 30  # long enough that a server restart never expires it


def _start(home: Path, lease: int, port: int | None = None) -> Server:
    (home / "config.yaml").write_text(yaml.safe_dump(server_config(lease, FLEET_PROFILES)))
    srv = start_server(home, port=port, dispatch=True)
    assert srv.client.post("/api/runners/register", json={}).status_code == 401, \
        "this server has no runner routes"
    return srv


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _start(tmp_path_factory.mktemp("fleet-home"), LEASE)
    try:
        yield srv
    finally:
        stop_server(srv)


class Restartable:
    """A server with a long lease that a test may stop and start again on the same home and port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.srv = _start(home, LONG_LEASE)

    def restart(self, between: Callable[[], None] = lambda: None) -> None:
        port = int(self.srv.url.rsplit(":", 1)[1])
        stop_server(self.srv)  # SIGTERM, as an operator's restart would
        between()
        self.srv = _start(self.home, LONG_LEASE, port=port)


@pytest.fixture(scope="module")
def long_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    box = Restartable(tmp_path_factory.mktemp("long-lease-home"))
    try:
        yield box
    finally:
        stop_server(box.srv)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A directory the test and every worker see (the runners' machines are this one)."""
    path = tmp_path / "shared"
    path.mkdir()
    return path


def script(text: str, **values: str) -> dict[str, Any]:
    """A shell-script profile; ``@KANBAN@`` and ``@NAME@`` (from ``values``) are filled in here,
    the runner fills in ``{task_id}`` and the like."""
    for key, value in {"KANBAN": KANBAN, **values}.items():
        text = text.replace(f"@{key}@", value)
    return sh(text)


def holder(run: dict[str, Any]) -> str:
    """The runner that held an attempt, from its claim lock ``runner/<name>:0:<nonce>``."""
    lock = run.get("claim_lock") or ""
    assert lock.startswith("runner/"), run
    return str(lock[len("runner/"):].split(":", 1)[0])


def task_log(srv: Server, task_id: str) -> str:
    return str(srv.api("GET", f"/api/tasks/{task_id}/log")["content"])


def status(srv: Server, task_id: str) -> str:
    return str(srv.task(task_id)["task"]["status"])


def open_run(srv: Server, task_id: str, runner: str | None = None) -> dict[str, Any] | None:
    for run in runs(srv, task_id):
        if run.get("ended_at") is None and (runner is None or holder(run) == runner):
            return run
    return None


def online(srv: Server, name: str) -> bool:
    return any(r["name"] == name and r["online"] for r in srv.api("GET", "/api/runners")["runners"])


def reported(runner: Runner, run: dict[str, Any]) -> None:
    """Wait until ``runner`` has shipped the rest of the attempt's output and reported its exit (a
    worker that completes itself makes the task done before that)."""
    wait_for(lambda: f"run {run['id']} ({run['task_id']} on default): exit reported" in runner.text(),
             timeout=30, what=f"run {run['id']}'s exit reported", runner=runner)


def seen(srv: Server, name: str) -> float | None:
    """When the server last heard from runner ``name`` (a claim or a lease; noted every 5 s)."""
    [runner] = [r for r in srv.api("GET", "/api/runners")["runners"] if r["name"] == name]
    return runner["last_seen_at"]  # type: ignore[no-any-return]


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


# 1 -----------------------------------------------------------------------------------------------
HANDOFF = """
set -e
echo "worker for $KANBAN_TASK_ID on profile $KANBAN_PROFILE"
@KANBAN@ context > context.md
cat context.md
saw=$(grep -o 'handoff-t_[a-z0-9]*' context.md | grep -v "handoff-$KANBAN_TASK_ID" | sort -u | tr '\\n' ' ')
@KANBAN@ complete --summary "handoff-$KANBAN_TASK_ID by $KANBAN_PROFILE; saw: $saw" \
    --metadata "{\\"produced_by\\": \\"$KANBAN_TASK_ID\\", \\"profile\\": \\"$KANBAN_PROFILE\\"}"
"""


def test_a_chain_runs_across_two_runners_with_each_handoff_reaching_the_child(
        server: Server, start_runner) -> None:
    a = server.create("chain A", assignee="left")
    b = server.create("chain B", assignee="right", parents=[a["id"]])
    c = server.create("chain C", assignee="left", parents=[b["id"]])
    left = start_runner("chain-left", {"left": script(HANDOFF)})
    right = start_runner("chain-right", {"right": script(HANDOFF)})

    for t in (a, b, c):
        wait_for(lambda t=t: status(server, t["id"]) == "done", timeout=60,
                 what=f"{t['title']} done", runner=left if t is not b else right)
    by_id = {t["id"]: runs(server, t["id"]) for t in (a, b, c)}
    for tid, attempts in by_id.items():
        assert [r["outcome"] for r in attempts] == ["completed"], (tid, attempts)
    assert holder(by_id[a["id"]][0]) == "chain-left"
    assert holder(by_id[b["id"]][0]) == "chain-right"
    assert holder(by_id[c["id"]][0]) == "chain-left"
    for tid, attempts in by_id.items():
        reported(right if tid == b["id"] else left, attempts[0])

    for parent, child, parent_profile in ((a, b, "left"), (b, c, "right")):
        parent_run = by_id[parent["id"]][0]
        child_run = by_id[child["id"]][0]
        assert parent_run["summary"].startswith(f"handoff-{parent['id']} by {parent_profile};")
        assert parent_run["metadata"] == {"produced_by": parent["id"], "profile": parent_profile}
        # What the child's worker read over HTTP (`kanban context`) and put in its output...
        log = task_log(server, child["id"])
        section = log.split("## Parent task results", 1)
        assert len(section) == 2, log
        assert f"### {parent['id']}: {parent['title']}" in section[1]
        assert f"handoff-{parent['id']} by {parent_profile}; saw:" in section[1]
        assert f'_metadata_: `{{"produced_by": "{parent["id"]}", "profile": "{parent_profile}"}}`' \
            in section[1]
        # ... and carried on in its own completion summary.
        assert f"handoff-{parent['id']}" in child_run["summary"].split("saw:", 1)[1], child_run
    assert "on runner chain-right" in task_log(server, b["id"])
    assert "on runner chain-left" in task_log(server, c["id"])


# 2 -----------------------------------------------------------------------------------------------
def test_a_profile_with_runs_on_goes_only_to_a_runner_with_the_labels(server: Server, start_runner) -> None:
    work = script("echo mac work on $KANBAN_TASK_ID; @KANBAN@ complete --summary 'built on a mac'")
    plain = start_runner("label-plain", {"mac": work}, extra={"labels": ["linux"]})
    wait_for(lambda: online(server, "label-plain"), what="the unlabelled runner registered", runner=plain)
    task = server.create("needs a mac", assignee="mac")
    created = time.time()

    why = wait_for(lambda: (server.task(task["id"])["task"].get("why") or {}).get("kind") == "no_runner"
                   and server.task(task["id"])["task"]["why"], what="why: no runner")
    assert "macos" in why["text"] and "mac" in why["text"], why
    # The runner without the label asks for work after the task is ready (the server notes when
    # a claim comes in), and the local dispatcher knows the profile: neither takes it.
    wait_for(lambda: (seen(server, "label-plain") or 0) > created + 1, what="a claim by the unlabelled runner",
             runner=plain)
    assert runs(server, task["id"]) == []
    assert status(server, task["id"]) == "ready"

    mac = start_runner("label-mac", {"mac": work}, labels=["macos"])
    wait_for(lambda: status(server, task["id"]) == "done", timeout=30, what="done on the mac", runner=mac)
    attempts = runs(server, task["id"])
    assert [r["outcome"] for r in attempts] == ["completed"], attempts
    assert holder(attempts[0]) == "label-mac"
    reported(mac, attempts[0])
    log = task_log(server, task["id"])
    assert "on runner label-mac" in log and "mac work on" in log
    assert "local dispatcher" not in log
    assert "started profile mac" not in plain.text()
    assert "labels [macos]" in mac.text()
    assert server.task(task["id"])["task"].get("why") is None


# 3 -----------------------------------------------------------------------------------------------
CAPPED = """
echo "start $(date +%s.%N)" > @DIR@/span.$KANBAN_RUN_ID
sleep 1
echo "end $(date +%s.%N)" >> @DIR@/span.$KANBAN_RUN_ID
@KANBAN@ complete --summary "capped work done"
"""


def test_a_profile_cap_holds_across_runners(server: Server, start_runner, shared: Path) -> None:
    work = {"capped": script(CAPPED, DIR=str(shared))}
    r1 = start_runner("cap-1", work, capacity=2, labels=["remote"])
    r2 = start_runner("cap-2", work, capacity=2, labels=["remote"])
    wait_for(lambda: online(server, "cap-1") and online(server, "cap-2"), what="both runners registered")
    tasks = [server.create(f"capped {i}", assignee="capped") for i in range(4)]
    ids = [t["id"] for t in tasks]

    most = 0
    deadline = time.monotonic() + 90
    while True:
        held = [x for r in server.api("GET", "/api/runners")["runners"] for x in r["running"]
                if x["profile"] == "capped"]
        cards = server.api("GET", "/api/tasks")["tasks"]
        running = [t for t in cards if t["id"] in ids and t["status"] == "running"]
        most = max(most, len(held), len(running))
        assert len(held) <= 1 and len(running) <= 1, (held, running)
        if all(t["status"] == "done" for t in cards if t["id"] in ids):
            break
        assert time.monotonic() < deadline, f"not all done:\n{r1.text()}\n{r2.text()}"
        time.sleep(0.05)
    assert most == 1

    for tid in ids:
        assert [r["outcome"] for r in runs(server, tid)] == ["completed"], runs(server, tid)
    # The workers' own clocks: no two of them were ever at work at once.
    spans = []
    for f in shared.glob("span.*"):
        lines = dict(line.split() for line in f.read_text().splitlines())
        spans.append((float(lines["start"]), float(lines["end"])))
    assert len(spans) == 4
    spans.sort()
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
        assert s2 >= e1, spans
    used = {holder(runs(server, tid)[0]) for tid in ids}
    assert used <= {"cap-1", "cap-2"}
    assert "local dispatcher" not in "".join(task_log(server, tid) for tid in ids)


# 4 -----------------------------------------------------------------------------------------------
FIRST_HANGS = """
if mkdir @DIR@/first 2>/dev/null; then
    echo "first attempt, pid $$"
    env > @DIR@/first/env.tmp && mv @DIR@/first/env.tmp @DIR@/first/env
    while true; do echo tick; sleep 0.5; done
else
    echo "second attempt"
    while [ ! -e @DIR@/go ]; do sleep 0.2; done
    @KANBAN@ complete --summary "the second attempt finished"
fi
"""


def _lost_then_retried(server: Server, start_runner, shared: Path, first: str, second: str,
                       stop: Callable[[Runner], None]) -> tuple[dict[str, Any], Runner, dict[str, str], dict[str, Any]]:
    """A task's first attempt on runner ``first``, ``stop`` applied to that runner, the lease run
    out (runner_lost) and the task retried on runner ``second``. Returns the task, the first
    runner, the first worker's environment and the lost attempt."""
    work = {"fleet-retry": script(FIRST_HANGS, DIR=str(shared))}
    one = start_runner(first, work)
    task = server.create(f"survives {first}", assignee="fleet-retry")
    wait_for(lambda: (shared / "first" / "env").exists(), what="the first worker started", runner=one)
    env = read_env(shared / "first" / "env")
    assert env["KANBAN_TASK_ID"] == task["id"]
    # Its output reached the server (shipped about once a second) before the runner goes.
    wait_for(lambda: "first attempt, pid " in task_log(server, task["id"]),
             what="the first worker's output", runner=one)
    two = start_runner(second, work)
    wait_for(lambda: online(server, second), what="the second runner registered", runner=two)
    stop(one)
    stopped_at = time.monotonic()
    lost = wait_for(lambda: ended(server, task["id"]), timeout=LEASE + 20, what="the reclaim")[0]
    assert lost["outcome"] == "runner_lost", lost
    assert str(lost["id"]) == env["KANBAN_RUN_ID"]
    assert holder(lost) == first and f"runner {first} was lost" in lost["error"]
    assert time.monotonic() - stopped_at >= LEASE / 2  # the lease ran out (it is renewed every third)
    wait_for(lambda: open_run(server, task["id"], second), timeout=20, what="the retry on the other runner",
             runner=two)
    wait_for(lambda: "second attempt" in task_log(server, task["id"]), what="the second worker's output",
             runner=two)
    return task, one, env, lost


def _late_complete(server: Server, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """``kanban complete`` with the credentials of an attempt, as its worker would send them."""
    creds = {k: env[k] for k in ("KANBAN_URL", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN", "KANBAN_TASK_ID",
                                 "KANBAN_BOARD")}
    return subprocess.run(
        [sys.executable, "-m", "agentkanban", "complete", env["KANBAN_TASK_ID"], "--summary",
         "late word from the lost attempt"],
        env={"PATH": os.environ["PATH"], "HOME": str(home), **creds}, capture_output=True, text=True,
        timeout=90)


def test_a_killed_runner_is_retried_elsewhere_and_its_late_complete_refused(
        server: Server, start_runner, shared: Path, tmp_path: Path) -> None:
    task, _one, env, lost = _lost_then_retried(server, start_runner, shared, "kill-1", "kill-2",
                                               lambda r: (r.proc.kill(), r.proc.wait(5)))
    retry = open_run(server, task["id"])
    assert retry is not None and holder(retry) == "kill-2"
    assert env["KANBAN_URL"] == server.url  # the credentials a worker really had

    res = _late_complete(server, env, tmp_path)
    assert res.returncode != 0, (res.stdout, res.stderr)
    assert "no longer current" in res.stderr, res.stderr
    detail = server.task(task["id"])
    assert detail["task"]["status"] == "running"
    assert detail["task"]["current_run_id"] == retry["id"]
    assert [r["outcome"] for r in detail["runs"]] == ["runner_lost", None]
    assert all(r["summary"] is None for r in detail["runs"])

    (shared / "go").touch()
    wait_for(lambda: status(server, task["id"]) == "done", timeout=30, what="done by the second attempt")
    attempts = runs(server, task["id"])
    assert [r["outcome"] for r in attempts] == ["runner_lost", "completed"], attempts
    assert attempts[0] == {**lost, "claim_expires": attempts[0]["claim_expires"]}
    assert attempts[1]["summary"] == "the second attempt finished"
    assert "late word" not in str(server.task(task["id"]))


# 5 -----------------------------------------------------------------------------------------------
def test_a_partitioned_runner_loses_its_attempt_and_stops_its_worker_when_back(
        server: Server, start_runner, shared: Path) -> None:
    task, one, env, lost = _lost_then_retried(server, start_runner, shared, "part-1", "part-2",
                                              lambda r: r.proc.send_signal(signal.SIGSTOP))
    first_pid = int(task_log(server, task["id"]).split("first attempt, pid ", 1)[1].split()[0])
    assert alive(first_pid)  # its worker ran on through the partition
    one.proc.send_signal(signal.SIGCONT)

    text = wait_for(lambda: "attempt is the server's to retry" in one.text() and one.text(), timeout=30,
                    what="the runner stopped its worker", runner=one)
    assert f"run {lost['id']} ({task['id']} on default): the server ended this attempt (409" in text
    wait_for(lambda: not alive(first_pid), timeout=10, what="the first worker gone", runner=one)
    assert "exit reported" not in text
    assert one.proc.poll() is None  # it carries on, ready for other work

    (shared / "go").touch()
    wait_for(lambda: status(server, task["id"]) == "done", timeout=30, what="done by the second attempt")
    attempts = runs(server, task["id"])
    assert [r["outcome"] for r in attempts] == ["runner_lost", "completed"], attempts
    assert attempts[0] == {**lost, "claim_expires": attempts[0]["claim_expires"]}  # never re-settled
    assert holder(attempts[1]) == "part-2"
    # What the first worker printed after the attempt was lost never reached the task's log.
    log = task_log(server, task["id"])
    assert log.count("=== attempt") == 2


# 6 -----------------------------------------------------------------------------------------------
ACROSS_RESTART = """
echo started >> @DIR@/starts
echo "working on $KANBAN_TASK_ID"
while [ ! -e @DIR@/go ]; do sleep 0.2; done
echo completing; touch @DIR@/completing
@KANBAN@ complete --summary "finished across a server restart"
echo "complete exited $?"
"""


def test_a_server_restart_under_a_running_worker_loses_nothing(
        long_server: Restartable, runner_pool: RunnerPool, shared: Path) -> None:
    srv = long_server.srv
    runner = runner_pool.start(srv, "restart-1", {"steady": script(ACROSS_RESTART, DIR=str(shared))})
    task = srv.create("outlives a restart", assignee="steady")
    wait_for(lambda: "working on" in task_log(srv, task["id"]), what="the worker running", runner=runner)

    def while_down() -> None:
        (shared / "go").touch()  # the worker now tries to complete while the server is away
        wait_for(lambda: (shared / "completing").exists(), what="the worker completing", runner=runner)
        wait_for(lambda: "server unreachable" in runner.text(), timeout=20, what="the outage noticed",
                 runner=runner)

    long_server.restart(while_down)
    srv = long_server.srv
    wait_for(lambda: status(srv, task["id"]) == "done", timeout=60, what="done after the restart",
             runner=runner)
    wait_for(lambda: "exit reported" in runner.text(), timeout=30, what="the exit reported", runner=runner)
    attempts = runs(srv, task["id"])
    assert [r["outcome"] for r in attempts] == ["completed"], attempts
    assert attempts[0]["summary"] == "finished across a server restart"
    assert (shared / "starts").read_text().splitlines() == ["started"]  # started once
    text = runner.text()
    assert "server reachable again" in text
    assert "exit reported: outcome completed" in text
    assert runner.proc.poll() is None
    log = task_log(srv, task["id"])
    assert "complete exited 0" in log and log.count("=== attempt") == 1


# 7 -----------------------------------------------------------------------------------------------
def test_a_revoked_runner_is_refused_everywhere_and_its_attempt_goes_back(
        server: Server, start_runner) -> None:
    token = make_token(server, "revoked-1")
    runner = start_runner("revoked-1", {"fleet-rev": sh("echo working; sleep 60")}, token=token)
    task = server.create("held by a runner about to be revoked", assignee="fleet-rev")
    run = wait_for(lambda: open_run(server, task["id"], "revoked-1"), what="running", runner=runner)
    wait_for(lambda: "working" in task_log(server, task["id"]), what="output", runner=runner)

    out = kanban(server, "runners", "revoke", "revoked-1")
    assert "revoked" in out and task["id"] in out
    assert runner.wait(30) == 78
    assert "refused the runner token" in runner.text()
    assert workers_under(runner.home) == []  # its worker was stopped

    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        answers = {
            "register": c.post("/api/runners/register", json={"profiles": ["fleet-rev"]}),
            "claim": c.post("/api/runners/claim", json={"slots": 1, "wait": 0}),
            "lease": c.post(f"/api/runners/runs/{run['id']}/lease"),
            "lease of run 1": c.post("/api/runners/runs/1/lease"),
            "log": c.post(f"/api/runners/runs/{run['id']}/log", content=b"late",
                          headers={"Content-Type": "application/octet-stream"}),
            "exit": c.post(f"/api/runners/runs/{run['id']}/exit", json={"exit_code": 0}),
            "tasks": c.get("/api/tasks"),
            "runners": c.get("/api/runners"),
        }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 401)

    detail = server.task(task["id"])
    assert detail["task"]["status"] == "ready"
    assert detail["task"]["current_run_id"] is None
    [attempt] = detail["runs"]
    assert attempt["outcome"] == "reclaimed" and "revoked" in attempt["error"], attempt
    assert "late" not in task_log(server, task["id"]).split("working", 1)[1]
    [listed] = [r for r in server.api("GET", "/api/runners")["runners"] if r["name"] == "revoked-1"]
    assert listed["revoked"] and not listed["online"] and listed["running"] == []


# 8 -----------------------------------------------------------------------------------------------
def _board(srv: Server, task_ids: list[str]) -> dict[str, Any]:
    """Everything a bad request could have changed: the tasks, their attempts and logs, the runners."""
    cards = [{k: v for k, v in t.items() if k != "age"} for t in srv.api("GET", "/api/tasks")["tasks"]]
    runners = [{k: v for k, v in r.items() if k != "last_seen_at"}
               for r in srv.api("GET", "/api/runners")["runners"]]
    return {"tasks": cards, "runs": {t: runs(srv, t) for t in task_ids},
            "logs": {t: task_log(srv, t) for t in task_ids}, "runners": runners}


def test_bad_input_is_refused_clearly_and_changes_nothing(long_server: Restartable) -> None:
    srv = long_server.srv
    token = make_token(srv, "strict-1", "--profile", "fleet-a")
    # Other runners, whose names begin like the runner's own routes.
    for name in ("claim-box", "register-box", "runs"):
        make_token(srv, name)
    held = srv.create("held", assignee="fleet-a")
    waiting = srv.create("waiting", assignee="fleet-a")
    ids = [held["id"], waiting["id"]]
    c = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        ok = c.post("/api/runners/register", json={"profiles": ["fleet-a"], "capacity": 2})
        assert ok.status_code == 200, ok.text
        got = c.post("/api/runners/claim", json={"slots": 1, "wait": 10}).json()["work"]
        assert [w["task_id"] for w in got] == [held["id"]], got
        run_id = got[0]["run_id"]
        assert c.post(f"/api/runners/runs/{run_id}/log", content=b"first words\n").status_code == 200
        before = _board(srv, ids)
        assert before["runs"][waiting["id"]] == [] and status(srv, waiting["id"]) == "ready"

        def refused(expect: int, resp: httpx.Response, *words: str) -> None:
            assert resp.status_code == expect, (resp.status_code, resp.text)
            detail = str(resp.json().get("detail"))
            for w in words:
                assert w in detail, (w, detail)
            assert _board(srv, ids) == before, resp.request.url

        for wrong in ("kbr_" + "x" * 43, "not-a-runner-token"):
            bad = {"Authorization": f"Bearer {wrong}"}
            refused(401, c.post("/api/runners/claim", json={"slots": 1, "wait": 0}, headers=bad))
            refused(401, c.post(f"/api/runners/runs/{run_id}/lease", headers=bad))
        refused(403, c.post("/api/runners/register", json={"profiles": ["fleet-b"]}), "fleet-b")
        refused(403, c.post("/api/runners/register", json={"profiles": ["fleet-a", "fleet-b"]}), "fleet-b")
        refused(400, c.post("/api/runners/register", json={"profiles": []}), "no profiles")
        refused(400, c.post("/api/runners/register", json={}), "no profiles")
        refused(422, c.post("/api/runners/claim", json={"slots": 0, "wait": 0}))
        refused(422, c.post("/api/runners/claim", json={"slots": 1, "wait": 0, "greedy": True}))
        refused(422, c.post("/api/runners/claim", content=b"not json",
                            headers={"Content-Type": "application/json"}))
        refused(400, c.post(f"/api/runners/runs/{run_id}/exit", json={}), "exit_code", "spawn_error")
        refused(400, c.post(f"/api/runners/runs/{run_id}/exit", json={"timed_out": True}), "exit_code")
        refused(422, c.post(f"/api/runners/runs/{run_id}/exit", json={"exit_code": "zero"}))
        refused(413, c.post(f"/api/runners/runs/{run_id}/log", content=b"x" * (256 * 1024 + 1)), "262144")
        operator = {"Authorization": f"Bearer {srv.token}"}
        refused(401, c.post("/api/runners/claim", json={"slots": 1, "wait": 0}, headers=operator),
                "runner token")
        refused(401, c.post(f"/api/runners/runs/{run_id}/lease", headers=operator), "runner token")
        refused(401, c.get("/api/runners"))
        refused(401, c.get("/api/tasks"))
        refused(401, c.delete("/api/runners/strict-1"))
        refused(401, c.post("/api/runners/tokens", json={"name": "sneaky"}))
        for name in ("claim-box", "register-box", "runs", "claim", "register"):
            refused(401, c.delete(f"/api/runners/{name}"))

        # The runner's good calls still work: nothing above broke its attempt.
        assert c.post(f"/api/runners/runs/{run_id}/lease").status_code == 200
        done = c.post(f"/api/runners/runs/{run_id}/exit", json={"exit_code": 3})
        assert done.status_code == 200 and done.json()["outcome"] == "crashed", done.text
    finally:
        c.close()


# 9 -----------------------------------------------------------------------------------------------
def test_a_worker_that_completed_itself_may_finish_up_past_a_lease_renewal(
        server: Server, start_runner) -> None:
    # The renewal falls due (every LEASE/3 s) while the worker is still finishing: it is not
    # taken for an attempt ended by someone else, so the worker is not stopped and its last
    # output and exit still reach the server.
    runner = start_runner("finisher", {"finish": script(
        "@KANBAN@ complete --summary 'done early'; echo finishing up; sleep " + str(LEASE) + "; echo bye")})
    task = server.create("finish up after completing", assignee="finish")
    wait_for(lambda: status(server, task["id"]) == "done", what="done", runner=runner)
    [attempt] = runs(server, task["id"])
    reported(runner, attempt)
    assert attempt["outcome"] == "completed" and attempt["summary"] == "done early"
    assert "exit reported: outcome completed" in runner.text()
    assert "the server ended this attempt" not in runner.text()
    log = task_log(server, task["id"])
    assert "finishing up" in log and "bye" in log


# 10 ----------------------------------------------------------------------------------------------
def test_a_claim_whose_runner_left_during_the_long_poll_takes_nothing(
        server: Server, start_runner) -> None:
    token = make_token(server, "ghost")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        assert c.post("/api/runners/register", json={"profiles": ["haunted"]}).status_code == 200
    # A claim waiting for work, and its runner gone (stopped or restarted) in the middle of it.
    host, port = server.url.removeprefix("http://").split(":")
    body = b'{"slots": 1, "wait": 30}'
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST /api/runners/claim HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                  b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(1)  # the server is holding it
    task = server.create("work for a runner that left", assignee="haunted")
    heir = start_runner("ghost-heir", {"haunted": script("@KANBAN@ complete --summary 'taken by the heir'")})
    wait_for(lambda: status(server, task["id"]) == "done", timeout=30, what="done", runner=heir)
    attempts = runs(server, task["id"])
    assert [(r["outcome"], holder(r)) for r in attempts] == [("completed", "ghost-heir")], attempts
