"""`kanban show` and `kanban list` say why a task is not moving."""

from __future__ import annotations


def write_config(home, text):
    (home / "config.yaml").write_text(text)


def test_show_and_list_say_why_a_task_waits(kanban, home):
    write_config(home, "profiles:\n  coder: {command: ['true']}\n  reviewer: {command: ['true']}\n")
    tid = kanban("create", "Write the intro", "--assignee", "writer").out.split()[1]
    shown = kanban("show", tid)
    assert shown.code == 0
    assert "Not moving: no profile named writer (profiles: coder, reviewer)" in shown.out
    assert kanban("show", tid, "--json").json()["task"]["why"] == {
        "kind": "no_profile", "text": "no profile named writer (profiles: coder, reviewer)"}
    listed = kanban("list", "--json").json()["tasks"]
    assert [(t["id"], t["why"]["kind"]) for t in listed] == [(tid, "no_profile")]
    table = kanban("list")
    words = table.out.split()
    assert table.code == 0 and "why" in table.out.splitlines()[1] and "profile" in words


def test_blocked_names_its_reason_and_who(kanban, home):
    tid = kanban("create", "Ship it").out.split()[1]
    assert kanban("block", tid, "--reason", "waiting for the API key").code == 0
    shown = kanban("show", tid)
    assert "Not moving: blocked by " in shown.out and ": waiting for the API key" in shown.out


def test_heartbeat_progress_reaches_the_task(kanban, home, db_url):
    from .test_costs_cli import _worker_env

    tid, env = _worker_env(kanban, home, db_url)
    assert kanban("heartbeat", "--note", "step 3 of 12", "--progress", "3/12", env=env).code == 0
    shown = kanban("show", tid, "--json").json()
    beat = [e for e in shown["events"] if e["kind"] == "heartbeat"][-1]
    assert beat["payload"] == {"note": "step 3 of 12", "progress": {"done": 3, "total": 12}}
    bad = kanban("heartbeat", "--progress", "13/12", env=env)
    assert bad.code == 2 and bad.err.startswith("error: progress 13/12")
    worse = kanban("heartbeat", "--progress", "half", env=env)
    assert worse.code == 2 and "DONE/TOTAL" in worse.err
