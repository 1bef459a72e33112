"""What the CLI prints for people reads as text: events, counts and handoffs, never a Python dict
or a JSON literal, and long texts folded rather than cut."""

from __future__ import annotations

import re

from agentkanban.config import load_settings
from agentkanban.services import open_ctx, runs

CLOCK = re.compile(r"^\d\d:\d\d:\d\d ")


def _create(kanban, *args: str) -> str:
    r = kanban("create", *args, "--json")
    assert r.code == 0, r.err
    return r.json()["task"]["id"]


def _no_literals(text: str) -> None:
    assert not re.search(r"[{}]|': |None|True|False|\[\]|\[['\"]", text), text


def test_show_renders_recent_events_as_text(kanban) -> None:
    parent = _create(kanban, "design", "--assignee", "coder")
    child = _create(kanban, "build", "--parent", parent)
    assert kanban("comment", parent, "looks", "good").code == 0
    assert kanban("priority", parent, "3").code == 0
    assert kanban("assign", parent, "reviewer").code == 0
    assert kanban("block", parent, "need", "a", "human").code == 0
    assert kanban("unblock", parent).code == 0
    assert kanban("complete", parent, "--summary", "schema written").code == 0
    out = kanban("show", parent).out
    events = out.split("## Recent events\n", 1)[1].splitlines()
    texts = [CLOCK.sub("", re.sub(r"^- #\d+ ", "", line)) for line in events]
    assert texts == [
        "created: assignee coder, status ready",
        "commented: by user (10 characters)",
        "reprioritized: to 3",
        "assigned: to reviewer",
        "blocked: by user - need a human",
        "unblocked: now ready, by user",
        "completed: schema written",
    ]
    _no_literals("\n".join(events))
    tail = kanban("tail", child, "--count", "2").out.splitlines()
    assert [CLOCK.sub("", line).split(" ", 2)[2] for line in tail] == [
        f"created: parents {parent}, status todo", "promoted"]


def test_watch_prints_events_as_text(kanban) -> None:
    tid = _create(kanban, "watched", "--tenant", "acme")
    assert kanban("archive", tid).code == 0
    lines = kanban("watch", "--since", "0", "--count", "2").out.splitlines()
    assert [CLOCK.sub("", line) for line in lines] == [
        f"#1 {tid} created: status ready, tenant acme", f"#2 {tid} archived: by user"]


def test_counts_read_as_text(kanban) -> None:
    for title in ("one", "two"):
        _create(kanban, title, "--assignee", "coder")
    done = _create(kanban, "three", "--assignee", "coder")
    assert kanban("complete", done).code == 0
    assignees = kanban("assignees").out
    assert "2 ready, 1 done" in assignees
    stats = kanban("stats").out
    assert "2 ready, 1 done" in stats and "coder" in stats
    _no_literals(assignees + stats)
    gc = kanban("gc").out
    assert gc.strip() == "events deleted 0, workspaces removed 0, logs removed 0"


def test_runs_show_the_handoff_and_whole_errors(kanban, home, db_url) -> None:
    tid = _create(kanban, "handoff", "--assignee", "coder")
    assert kanban("complete", tid, "--summary", "did it", "--metadata",
                  '{"files": ["a.py", "b.py"], "tests": {"passed": 3}, "clean": true}').code == 0
    long_reason = " ".join(f"w{i:03d}" for i in range(60))
    other = _create(kanban, "taken back", "--assignee", "coder")
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    try:
        assert runs.claim(ctx, "default", other, profile="coder", lock="t", ttl=60) is not None
    finally:
        ctx.store.dispose()
    assert kanban("reclaim", other, "--reason", long_reason).code == 0
    handoff = kanban("runs", tid, env={"COLUMNS": "200"}).out  # wide enough for the cell on one line
    flat = " ".join(handoff.split())
    for words in ("files a.py, b.py", "tests (passed 3)", "clean yes"):
        assert words in flat, handoff
    _no_literals(handoff)
    error = kanban("runs", other).out
    assert all(f"w{i:03d}" in error for i in range(60)), error  # folded, not cut at 80 characters
    assert kanban("runs", other, "--json").json()["runs"][0]["error"].endswith("w059")
