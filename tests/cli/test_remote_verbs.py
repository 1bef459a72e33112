"""The worker's verbs answer the same through ``kanban serve`` (``KANBAN_URL``) as on the database:
the same stdout, the same ``error:`` line, the same exit code, as a worker and as the operator,
refusals included. A run token opens the verbs routes only, and only for its own open attempt.

One ``kanban serve`` subprocess (SQLite, its own home) per module; every case makes fresh tasks
for each mode, and the outputs are compared with task ids and numbers normalised.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentkanban.cli import main
from agentkanban.services import Actor, Ctx, attachments, runs, transitions
from agentkanban.services import boards as board_svc
from agentkanban.services import tasks as task_svc

from ..serving import Server, served

TOKEN = "operator-token-for-the-remote-verbs-suite"
MAX_ATTACHMENT = 1000  # attachments.max_bytes of the suite's board
USER = Actor("user")
CLEAN_ENV = ("KANBAN_URL", "KANBAN_TOKEN", "KANBAN_BOARD", "KANBAN_TASK_ID", "KANBAN_RUN_ID",
             "KANBAN_RUN_TOKEN", "KANBAN_PROFILE", "KANBAN_DATABASE_URL")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("remote-home")
    (home / "config.yaml").write_text(f"database_retry_seconds: 1\n"
                                      f"attachments: {{max_bytes: {MAX_ATTACHMENT}}}\n")
    with served(home, TOKEN) as srv:
        yield srv


@pytest.fixture(scope="module")
def ctx(server: Server) -> Ctx:
    c: Ctx = server.ctx()
    if not board_svc.exists(c, "other"):
        board_svc.create(c, "other")
    return c


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in {*CLEAN_ENV, "KANBAN_HOME", *values}}
    for k in CLEAN_ENV:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def kanban(capsys: Any, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with environ(env):
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def normal(text: str) -> str:
    """Task ids by order of appearance, every number as 9 (run ids, clocks, ages)."""
    seen: dict[str, str] = {}
    text = re.sub(r"t_[0-9a-f]{8}", lambda m: seen.setdefault(m[0], f"T{chr(65 + len(seen))}"), text)
    return re.sub(r"\d+", "9", text)


class Board:
    """Fresh tasks for one mode: ``parent`` (done) <- ``task`` (claimed by a worker); ``other``
    claimed by another worker. Each has its own profile (``p<n>x``), so one mode's work is not
    another's "recent work"."""

    made = 0

    def __init__(self, ctx: Ctx) -> None:
        Board.made += 1
        self.ctx = ctx
        self.profile = f"p{Board.made:03d}x"  # one width: tables line up alike in both modes
        self.parent = task_svc.create(ctx, "default", title="parent", actor=USER,
                                      tenant=self.profile).task.id
        transitions.complete(ctx, "default", self.parent, actor=USER, summary="parent done")
        self.task = task_svc.create(ctx, "default", title="the task", actor=USER, assignee=self.profile,
                                    parents=[self.parent], tenant=self.profile).task.id
        self.other = task_svc.create(ctx, "default", title="other", actor=USER, assignee=self.profile,
                                     tenant=self.profile).task.id
        self.claim = self._claim(self.task)
        self._claim(self.other)

    def _claim(self, tid: str) -> runs.Claim:
        claimed = runs.claim(self.ctx, "default", tid, profile=self.profile, lock="test", ttl=600)
        assert claimed is not None
        return claimed

    def worker_env(self) -> dict[str, str]:
        return {"KANBAN_TASK_ID": self.task, "KANBAN_RUN_ID": str(self.claim.run_id),
                "KANBAN_RUN_TOKEN": self.claim.token, "KANBAN_PROFILE": self.profile}

    def words(self, args: tuple[str, ...]) -> list[str]:
        names = {"{task}": self.task, "{parent}": self.parent, "{other}": self.other,
                 "{key}": f"key-{self.profile}",
                 "{tenant}": self.profile, **self.more_names()}
        return [names.get(a, a) for a in args]

    def more_names(self) -> dict[str, str]:
        return {}


class ReviewBoard(Board):
    """Fresh tasks for one mode, in review: ``task`` and ``other``, done by an implementer
    (``p<n>x``) and waiting for the reviewer profile ``r<n>x``, which has claimed ``task``'s
    review (``claim``; the worker is that reviewer). ``parent`` is done; ``gated`` waits for a
    person's approval to start."""

    def __init__(self, ctx: Ctx) -> None:
        Board.made += 1
        self.ctx = ctx
        self.profile = f"r{Board.made:03d}x"  # the reviewer: the worker of worker_env()
        self.implementer = f"p{Board.made:03d}x"
        self.parent = task_svc.create(ctx, "default", title="parent", actor=USER,
                                      tenant=self.implementer).task.id
        transitions.complete(ctx, "default", self.parent, actor=USER, summary="parent done")
        self.task = self._submitted("the work")
        self.other = self._submitted("other work")
        self.gated = task_svc.create(ctx, "default", title="gated", actor=USER, tenant=self.implementer,
                                     assignee=self.implementer, requires_approval=True).task.id
        self.claim = self._claim(self.task)

    def _submitted(self, title: str) -> str:
        tid = task_svc.create(ctx := self.ctx, "default", title=title, actor=USER,
                              assignee=self.implementer, review_by=self.profile,
                              tenant=self.implementer).task.id
        work = runs.claim(ctx, "default", tid, profile=self.implementer, lock="test", ttl=600)
        assert work is not None
        done = transitions.complete(ctx, "default", tid, summary="did it", actor=Actor(
            self.implementer, worker_task=tid, run_id=work.run_id, run_token=work.token))
        assert done.status.value == "review"
        return tid

    def more_names(self) -> dict[str, str]:
        return {"{gated}": self.gated}


def env_for(mode: str, server: Server, extra: dict[str, str]) -> dict[str, str]:
    env = {"KANBAN_HOME": str(server.home), **extra}
    if mode == "http":
        env["KANBAN_URL"] = server.url
        env.setdefault("KANBAN_TOKEN", TOKEN)  # ignored by the client inside a worker
    return env


def both(capsys: Any, ctx: Ctx, server: Server, steps: list[tuple[str, ...]], *,
         worker: bool, reclaim_before: int | None = None, make: type[Board] = Board,
         boards: list[Board] | None = None) -> list[tuple[int, str, str]]:
    """Run ``steps`` in each mode on fresh tasks (``make``; each mode's in ``boards``, local
    first); assert the two modes answer the same."""
    results: dict[str, list[tuple[int, str, str]]] = {}
    for mode in ("local", "http"):
        board = make(ctx)
        if boards is not None:
            boards.append(board)
        extra = board.worker_env() if worker else {}
        results[mode] = []
        for i, step in enumerate(steps):
            if i == reclaim_before:
                runs.reclaim(ctx, "default", board.task, actor=USER, reason="test")
            code, out, err = kanban(capsys, env_for(mode, server, extra), *board.words(step))
            results[mode].append((code, normal(out), normal(err)))
    for step, local, remote in zip(steps, results["local"], results["http"], strict=True):
        assert local == remote, f"{step}: local {local!r} != http {remote!r}"
    return results["local"]


WORKER_STEPS: list[tuple[str, ...]] = [
    ("show",), ("show", "--json"), ("context",), ("context", "--json"), ("show", "{parent}"),
    ("show", "{other}"), ("show", "t_00000000"), ("context", "{other}"),
    ("heartbeat", "--note", "half way", "--progress", "1/2", "--data", '{"step": 1}'),
    ("heartbeat", "{other}"), ("heartbeat", "--progress", "7/2"),
    ("comment", "{task}", "hello", "from", "the", "worker"), ("comment", "{other}", "hi"),  # as locally: a current attempt may comment anywhere
    ("create", "a follow-up", "--parent", "{task}", "--label", "x", "--priority", "2"),
    ("create", "elsewhere", "--parent", "{other}"), ("create", "orphan", "--json"),
    ("complete", "--metadata", "{not json"), ("complete", "{other}", "--summary", "no"),
    ("block", "{other}", "stuck"),
    ("complete", "--summary", "done", "--artifact", "a.txt", "--metadata", '{"k": 1}', "--json"),
    ("complete", "--summary", "again"), ("block", "--reason", "too late"), ("heartbeat",),
]


def test_worker_verbs_answer_the_same_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, WORKER_STEPS, worker=True)
    codes = [code for code, _, _ in got]
    assert codes == [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 0, 0, 1, 1, 2, 1, 1, 0, 0, 1, 1], got
    assert "may only read its own task" in got[5][2]
    assert "only create tasks under its own task" in got[14][2]
    assert "no longer current" in got[21][2]


REPORT_STEPS: list[tuple[str, ...]] = [
    ("session", "sess-123"), ("usage", "--input-tokens", "10", "--output-tokens", "5", "--cost-usd",
                              "0.01", "--model", "m1", "--json"),
    ("usage", "--input-tokens", "-3"), ("session", "s2", "--task", "{other}"),
    ("usage", "--task", "{other}", "--input-tokens", "1"), ("usage", "--output-tokens", "2"),
]


def test_worker_reports_answer_the_same_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, REPORT_STEPS, worker=True)
    assert [c for c, _, _ in got] == [0, 0, 2, 1, 1, 0], got
    assert "session sess-9" in got[0][1] and '"input_tokens": 9' in got[1][1]


def test_a_reclaimed_attempt_is_refused_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, [("heartbeat",), ("heartbeat",), ("comment", "{task}", "x"),
                                     ("complete", "--summary", "late")],
               worker=True, reclaim_before=1)
    assert [c for c, _, _ in got] == [0, 1, 1, 1]
    assert all("no longer current" in err for _, _, err in got[1:])


OPERATOR_STEPS: list[tuple[str, ...]] = [
    ("show", "{task}"), ("show", "{other}", "--json"), ("context", "{parent}"),
    ("show", "t_00000000"), ("show",), ("heartbeat", "{task}", "--note", "operator"),
    ("comment", "{task}", "a", "note"), ("comment", "{task}", "signed", "--author", "alice"),
    ("create", "operator task", "--assignee", "coder", "--max-runtime", "5m", "--json"),
    ("create", "child", "--parent", "{other}", "--triage", "--idempotency-key", "{key}"),
    ("create", "bad", "--max-cost-usd", "-3"),
    ("complete", "{task}", "--metadata", "[1"), ("block", "{other}", "--reason", "needs a person"),
    ("complete", "{task}", "--summary", "by hand", "--created-card", "t_00000000"),
    ("complete", "{task}", "--summary", "by hand"),
]


def test_operator_verbs_answer_the_same_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, OPERATOR_STEPS, worker=False)
    assert [c for c, _, _ in got] == [0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 2, 2, 0, 2, 0], got


MORE_OPERATOR_STEPS: list[tuple[str, ...]] = [
    ("list", "--tenant", "{tenant}"), ("ls", "--tenant", "{tenant}", "--status", "running", "--json"),
    ("list", "--status", "nonsense"), ("move", "{parent}", "ready"), ("move", "t_00000000", "todo"),
    ("block", "{other}", "--reason", "r"), ("unblock", "{other}"), ("unblock", "{other}"),
    ("assign", "{other}", "none"), ("assign", "{task}", "someone"), ("move", "{other}", "triage"),
    ("archive", "{other}", "--rm"), ("archive", "{other}"), ("archive", "{other}", "--rm"),
    ("list", "--tenant", "{tenant}", "--archived", "--json"),
]


def test_more_operator_verbs_answer_the_same_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, MORE_OPERATOR_STEPS, worker=False)
    assert [c for c, _, _ in got] == [0, 0, 2, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0], got
    assert "task(s)" in got[0][1] and got[13][1] == "deleted TA\n"


REVIEWER_STEPS: list[tuple[str, ...]] = [
    ("approve", "{other}"), ("request-changes", "--reason", " "), ("approve", "t_00000000"),
    ("approve", "--summary", "looks right", "--json"), ("approve",),
    ("request-changes", "--reason", "too late"), ("show", "--json"),
]


def test_a_reviewer_approves_the_same_both_ways(capsys, ctx, server):
    boards: list[Board] = []
    got = both(capsys, ctx, server, REVIEWER_STEPS, worker=True, make=ReviewBoard, boards=boards)
    assert [c for c, _, _ in got] == [1, 2, 1, 0, 0, 1, 1], got
    assert "may only approve its own task" in got[0][2] and "reason is required" in got[1][2]
    assert got[3][1] == '{\n  "task": "TA",\n  "status": "done"\n}\n'
    assert got[4][1].startswith("TA [done]") and "not in review" in got[5][2]
    assert "no longer current" in got[6][2]  # the approval ended the attempt
    for board in boards:
        task = task_svc.show(ctx, "default", board.task)
        assert task.task.status.value == "done"
        assert [(r.kind, r.outcome) for r in task.runs] == [("work", "completed"), ("review", "approved")]
        assert task.runs[0].metadata["review"]["summary"] == "looks right"
        assert task_svc.show(ctx, "default", board.other).task.status.value == "review"


def test_a_reviewer_requests_changes_the_same_both_ways(capsys, ctx, server):
    steps = [("request-changes", "{other}", "--reason", "no"),
             ("request-changes", "--reason", "the tests are missing", "--json"),
             ("request-changes", "--reason", "the tests are missing"), ("approve",)]
    boards: list[Board] = []
    got = both(capsys, ctx, server, steps, worker=True, make=ReviewBoard, boards=boards)
    assert [c for c, _, _ in got] == [1, 0, 0, 1], got
    assert '"status": "ready"' in got[1][1] and got[2][1].startswith("TA [ready] @p")
    assert "may only request changes on its own task" in got[0][2]
    for board in boards:
        assert task_svc.show(ctx, "default", board.task).task.review_rounds == 1


def test_an_ended_review_attempt_decides_nothing_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, [("show",), ("approve",), ("request-changes", "--reason", "x")],
               worker=True, make=ReviewBoard, reclaim_before=1)
    assert [c for c, _, _ in got] == [0, 1, 1], got
    assert all("no longer current" in err for _, _, err in got[1:])


OPERATOR_REVIEW_STEPS: list[tuple[str, ...]] = [
    ("approve", "{task}", "--summary", "fine by me"), ("approve", "{task}", "--json"),
    ("request-changes", "{other}", "--reason", "needs tests", "--json"), ("approve", "{other}"),
    ("approve",), ("approve", "t_00000000"), ("request-changes", "{parent}", "--reason", "x"),
    ("approve-start", "{parent}"), ("approve-start", "{gated}"), ("approve-start", "{gated}"),
    ("approve-start", "t_00000000"),
]


def test_the_operator_reviews_the_same_both_ways(capsys, ctx, server):
    got = both(capsys, ctx, server, OPERATOR_REVIEW_STEPS, worker=False, make=ReviewBoard)
    assert [c for c, _, _ in got] == [0, 1, 0, 1, 2, 1, 1, 1, 0, 0, 1], got
    assert got[0][1].startswith("TA [done]") and '"status": "ready"' in got[2][1]
    assert "missing TASK_ID" in got[4][2] and "has not started yet" in got[7][2]
    assert got[8][1] == got[9][1] and "gated" in got[8][1]


def test_a_worker_cannot_approve_a_start_remotely(capsys, ctx, server):
    board = ReviewBoard(ctx)
    env = env_for("http", server, board.worker_env())
    code, out, err = kanban(capsys, env, "approve-start", board.gated)
    assert (code, out) == (1, "") and "run token reaches show, context" in err
    assert task_svc.show(ctx, "default", board.gated).task.approval != "approved"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A report under the suite's attachments.max_bytes, a file just over it, an empty one."""
    made = {"report": tmp_path / "report.txt", "big": tmp_path / "big.bin",
            "empty": tmp_path / "empty.txt"}
    made["report"].write_bytes(b"line one\n\x00\xffbinary tail\n" * 20)
    made["big"].write_bytes(os.urandom(MAX_ATTACHMENT + 1))
    made["empty"].write_bytes(b"")
    return made


def stored(ctx: Ctx, task_id: str) -> list[tuple[str, bytes]]:
    """A task's attachments as (name, bytes), read back through the service."""
    out = []
    for a in attachments.for_task(ctx, task_id):
        _, path = attachments.get(ctx, a.id)
        out.append((a.filename, path.read_bytes()))
    return out


def store_files(ctx: Ctx) -> set[Path]:
    root = attachments.store_dir(ctx)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_worker_attaches_the_same_both_ways(capsys, ctx, server, files):
    report, big, empty = (str(files[k]) for k in ("report", "big", "empty"))
    steps = [("attach", report), ("attach", report, "--name", "notes.md", "--json"),
             ("attach", report, "--task", "{other}"), ("attach", big),
             ("attach", report, "--name", "a/b"), ("attach", report, "--task", "t_00000000"),
             ("attach", empty), ("attach", report, big), ("attach", report, empty, "--name", "x")]
    before = store_files(ctx)
    boards: list[Board] = []
    got = both(capsys, ctx, server, steps, worker=True, boards=boards)
    assert [c for c, _, _ in got] == [0, 0, 1, 2, 2, 1, 0, 2, 2], got
    assert got[0][1] == "TA: attached report.txt (9 bytes) as #9\n"
    assert '"filename": "notes.md"' in got[1][1] and '"uploaded_by": "p9x"' in got[1][1]
    assert "may only attach files to its own task" in got[2][2]
    assert "larger than the 9 MiB limit (9 bytes)" in got[3][2] and "max_bytes" in got[3][2]
    content = files["report"].read_bytes()
    for board in boards:
        assert stored(ctx, board.task) == [("report.txt", content), ("notes.md", content),
                                           ("empty.txt", b""), ("report.txt", content)]
        assert stored(ctx, board.other) == []
    rows = {a.stored_name for b in boards for a in attachments.for_task(ctx, b.task)}
    # Nothing kept of the refused uploads, no spooled copy left over.
    assert {p.name for p in store_files(ctx) - before} == rows


def test_a_file_name_that_is_not_text_is_refused_both_ways(capsys, ctx, server, tmp_path):
    """Undecodable bytes in a file's name: refused as invalid text, with the same exit code (the
    server's words name the query string it arrived in)."""
    odd = tmp_path / os.fsdecode(b"odd-\xff.txt")
    odd.write_bytes(b"x")
    for mode, words in (("local", "control characters"), ("http", "invalid text in the query")):
        board = Board(ctx)
        code, out, err = kanban(capsys, env_for(mode, server, board.worker_env()), "attach", str(odd))
        assert (code, out) == (2, "") and err.startswith("error: ") and words in err, (mode, err)
        assert len(err.splitlines()) == 1 and attachments.for_task(ctx, board.task) == []


def test_the_operator_attaches_the_same_both_ways(capsys, ctx, server, files):
    report, big = str(files["report"]), str(files["big"])
    steps = [("attach", report, "--task", "{task}"), ("attach", report),
             ("attach", big, "--task", "{other}"), ("attach", report, "--task", "{parent}", "--json")]
    boards: list[Board] = []
    got = both(capsys, ctx, server, steps, worker=False, boards=boards)
    assert [c for c, _, _ in got] == [0, 2, 2, 0], got
    assert "missing TASK_ID" in got[1][2] and '"uploaded_by": "user"' in got[3][1]
    for board in boards:
        assert [n for n, _ in stored(ctx, board.task)] == ["report.txt"]
        assert stored(ctx, board.other) == []


def test_other_commands_refuse_to_run_remotely(capsys, server):
    for args in (("dispatch",), ("edit", "t_00000000"), ("boards", "list"), ("reclaim", "t_00000000"),
                 ("usage", "report")):
        code, out, err = kanban(capsys, env_for("http", server, {}), *args)
        assert code == 2 and out == "", args
        assert err.startswith("error: `kanban ") and "runs only where the board's database is" in err
        assert len(err.strip().splitlines()) == 1


def test_a_worker_cannot_reach_another_board(capsys, ctx, server):
    board = Board(ctx)
    env = env_for("http", server, board.worker_env())
    code, _, err = kanban(capsys, {**env, "KANBAN_BOARD": "other"}, "show")
    assert code == 1 and "own board ('default') only" in err
    for args in (("list",), ("move", board.task, "todo"), ("archive", board.other)):
        code, out, err = kanban(capsys, env, *args)
        assert (code, out) == (1, "") and "run token reaches show, context" in err, args


def test_a_run_token_opens_nothing_but_the_verbs(ctx, server):
    board = Board(ctx)
    worker = {"Authorization": f"Bearer {board.claim.token}",
              "X-Kanban-Run-Id": str(board.claim.run_id)}
    for method, path in (("GET", "/api/board"), ("POST", "/api/dispatch"),
                         ("DELETE", "/api/boards/other"), ("POST", f"/api/tasks/{board.task}/reclaim"),
                         ("GET", f"/api/tasks/{board.task}"),
                         ("POST", f"/api/tasks/{board.task}/attachments"),
                         ("GET", f"/api/tasks/{board.task}/attachments"),
                         ("GET", "/api/attachments/1"), ("DELETE", "/api/attachments/1"),
                         ("POST", f"/api/tasks/{board.task}/approve"),
                         ("POST", f"/api/plugins/kanban/tasks/{board.task}/attachments")):
        r = httpx.request(method, server.url + path, headers=worker, json={}, timeout=10)
        assert r.status_code == 401, (method, path, r.text)
    r = httpx.post(f"{server.url}/api/verbs/approve_start", headers=worker, json={"task": board.task},
                   timeout=10)
    assert r.status_code == 403 and "run token reaches" in r.json()["detail"]
    task = task_svc.show(ctx, "default", board.task).task
    assert task.status.value == "running" and task.current_run_id == board.claim.run_id
    assert board_svc.exists(ctx, "other")
    ok = httpx.get(f"{server.url}/api/verbs/context/{board.task}", headers=worker, timeout=10)
    assert ok.status_code == 200 and ok.json()["task_id"] == board.task
    wrong = {**worker, "Authorization": "Bearer not-the-token"}
    r = httpx.get(f"{server.url}/api/verbs/context/{board.task}", headers=wrong, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    r = httpx.post(f"{server.url}/api/verbs/attach", headers=wrong, content=b"x" * 10,
                   params={"task": board.task, "filename": "x.txt"}, timeout=10)
    assert r.status_code == 401 and attachments.for_task(ctx, board.task) == []


def test_a_run_token_is_not_an_operator_token(capsys, ctx, server):
    board = Board(ctx)
    env = env_for("http", server, {"KANBAN_TOKEN": board.claim.token})
    code, out, err = kanban(capsys, env, "show", board.task)
    assert (code, out) == (1, "") and "missing or wrong token" in err
    assert board.claim.token not in err


def test_an_unreachable_server_exits_69(capsys, tmp_path: Path):
    (tmp_path / "config.yaml").write_text("database_retry_seconds: 1\n")
    env = {"KANBAN_HOME": str(tmp_path), "KANBAN_URL": "http://127.0.0.1:9", "KANBAN_TOKEN": TOKEN}
    code, out, err = kanban(capsys, env, "show", "t_00000000")
    assert (code, out) == (69, "") and "unreachable" in err and TOKEN not in err
    (tmp_path / "f.txt").write_text("x")
    code, out, err = kanban(capsys, env, "attach", str(tmp_path / "f.txt"), "--task", "t_00000000")
    assert (code, out) == (69, "") and "unreachable" in err


class DropFirst:
    """A relay to ``server`` that closes its first connection unanswered (a server restarting
    mid-request), then relays every later one whole."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.dropped = 0
        self.conns: list[socket.socket] = []  # every socket it opened, closed by close()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if not self.dropped:
                self.dropped += 1
                conn.recv(65536)
                conn.close()
                continue
            up = socket.create_connection(self.upstream)
            self.conns += [conn, up]
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self.listener.close()
        self.thread.join(5)
        for conn in self.conns:
            conn.close()


def test_an_upload_cut_off_is_sent_again_whole(capsys, ctx, server, files):
    board = Board(ctx)
    relay = DropFirst(server.url)
    try:
        env = {**env_for("http", server, board.worker_env()), "KANBAN_URL": relay.url}
        code, out, err = kanban(capsys, env, "attach", str(files["report"]))
    finally:
        relay.close()
    assert (code, err, relay.dropped) == (0, "", 1) and out.startswith(f"{board.task}: attached")
    assert stored(ctx, board.task) == [("report.txt", files["report"].read_bytes())]


def test_inside_a_worker_the_api_token_is_never_sent(capsys, ctx, server):
    board = Board(ctx)
    env = env_for("http", server, {"KANBAN_TASK_ID": board.task})  # no run id or run token
    assert env["KANBAN_TOKEN"] == TOKEN
    code, out, err = kanban(capsys, env, "comment", board.task, "who am I")
    assert (code, out) == (1, "") and "missing or wrong token" in err
    assert task_svc.show(ctx, "default", board.task).comments == []
