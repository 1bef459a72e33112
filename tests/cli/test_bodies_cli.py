"""Long text from a file (`--body-file PATH`) or standard input (`--body -`), wherever a command
takes a body, a result, a summary or a comment; bad input is refused and changes nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

BODY = "# Plan\n\n1. read the `schema`\n2. write — «tests» ✓\n\n```sh\nkanban list --json\n```\n"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _task(kanban, tid: str) -> dict:
    r = kanban("show", tid, "--json")
    assert r.code == 0, r.err
    return r.json()


def test_create_and_edit_read_a_body_file(kanban, tmp_path) -> None:
    body = tmp_path / "plan.md"
    body.write_text(BODY, encoding="utf-8")
    r = kanban("create", "from a file", "--body-file", str(body), "--json")
    assert r.code == 0, r.err
    tid = r.json()["task"]["id"]
    assert _task(kanban, tid)["task"]["body"] == BODY
    (tmp_path / "result.txt").write_text("all green\n")
    assert kanban("edit", tid, "--body-file", str(body), "--result-file",
                  str(tmp_path / "result.txt")).code == 0
    assert _task(kanban, tid)["task"]["result"] == "all green\n"


def test_body_dash_reads_standard_input(kanban, monkeypatch) -> None:
    _stdin(monkeypatch, BODY.encode())
    r = kanban("create", "from stdin", "--body", "-", "--json")
    assert r.code == 0, r.err
    tid = r.json()["task"]["id"]
    assert _task(kanban, tid)["task"]["body"] == BODY
    _stdin(monkeypatch, b"second version")
    assert kanban("edit", tid, "--body-file", "-").code == 0
    assert _task(kanban, tid)["task"]["body"] == "second version"


def test_comments_and_summaries_take_long_text(kanban, monkeypatch, tmp_path) -> None:
    tid = kanban("create", "talk", "--json").json()["task"]["id"]
    _stdin(monkeypatch, b"from standard input\n")
    assert kanban("comment", tid, "-").code == 0
    note = tmp_path / "note.md"
    note.write_text(BODY)
    assert kanban("comment", tid, "--body-file", str(note)).code == 0
    assert kanban("comment", tid, "plain", "words").code == 0
    bodies = [c["body"] for c in _task(kanban, tid)["comments"]]
    assert bodies == ["from standard input", BODY.strip(), "plain words"]  # comments are trimmed
    other = kanban("create", "stuck", "--json").json()["task"]["id"]
    (tmp_path / "why.txt").write_text("needs the production password")
    assert kanban("block", other, "--reason-file", str(tmp_path / "why.txt")).code == 0
    assert _task(kanban, other)["events"][-1]["payload"]["reason"] == "needs the production password"
    _stdin(monkeypatch, b"the whole story")
    assert kanban("complete", tid, "--summary", "-").code == 0
    assert _task(kanban, tid)["runs"][-1]["summary"] == "the whole story"


def test_schedules_take_a_body_file(kanban, tmp_path) -> None:
    body = tmp_path / "weekly.md"
    body.write_text(BODY)
    r = kanban("schedule", "add", "weekly", "--cron", "0 9 * * MON", "--body-file", str(body), "--json")
    assert r.code == 0, r.err
    assert r.json()["template"]["body"] == BODY


@pytest.mark.parametrize("make,args,line", [
    (lambda p: p.write_text("x"), ["--body", "inline", "--body-file", "{p}"],
     "error: give --body or --body-file, not both"),
    (lambda p: None, ["--body-file", "{p}"],
     "error: cannot read --body-file {p}: No such file or directory; give a readable file"),
    (lambda p: p.write_bytes(b"caf\xe9"), ["--body-file", "{p}"],
     "error: --body-file {p} is not valid UTF-8 text (byte 3); convert it to UTF-8 and try again"),
    (lambda p: p.write_text("x" * 1_000_001), ["--body-file", "{p}"],
     "error: body is too long (1000001 characters, at most 1000000)"),
])
def test_bad_bodies_are_refused_and_nothing_is_created(kanban, tmp_path, make, args, line) -> None:
    path = tmp_path / "body.md"
    make(path)
    r = kanban("create", "refused", *[a.format(p=path) for a in args])
    assert (r.code, r.err) == (2, line.format(p=path) + "\n")
    assert kanban("list", "--json").json()["tasks"] == []


def test_standard_input_is_read_once(kanban, monkeypatch) -> None:
    tid = kanban("create", "once", "--json").json()["task"]["id"]
    _stdin(monkeypatch, b"text")
    r = kanban("edit", tid, "--body", "-", "--result", "-")
    assert (r.code, r.err) == (2, "error: standard input was already read for another option; give "
                                  "--result inline or with --result-file PATH\n")
    assert _task(kanban, tid)["task"]["body"] is None


def test_a_real_pipe(home, db_url) -> None:
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}
    env.pop("KANBAN_TASK_ID", None)
    r = subprocess.run([sys.executable, "-m", "agentkanban", "create", "piped", "--body", "-", "--json"],
                       input=BODY.encode(), env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import json

    assert json.loads(r.stdout)["task"]["body"] == BODY
