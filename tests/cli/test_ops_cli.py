"""The operator's commands end to end: backup during a write storm, restore, db check, doctor,
status, export/import round trip across backends, schedules."""

from __future__ import annotations

import json
import threading

import pytest

from agentkanban.config import load_settings
from agentkanban.services import Actor, comments, links, open_ctx, runs, subs, tasks, transitions
from agentkanban.store import engine as store_engine


def test_backup_during_a_write_storm_restores_every_acknowledged_write(kanban, home, db_url, tmp_path):
    assert kanban("init").code == 0
    if not db_url.startswith("sqlite"):
        r = kanban("backup", str(tmp_path / "b.db"))
        assert r.code == 1 and r.out.startswith("pg_dump --format=custom --file ")
        assert "PostgreSQL" in r.err and not (tmp_path / "b.db").exists()
        return
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    acked: list[str] = []
    stop = threading.Event()

    def storm(n: int) -> None:
        i = 0
        while not stop.is_set():
            t = tasks.create(ctx, "default", title=f"w{n}-{i}", actor=Actor("storm")).task
            comments.add(ctx, "default", t.id, "hello", actor=Actor("storm"))
            acked.append(t.id)  # acknowledged: the call returned after commit
            i += 1

    writers = [threading.Thread(target=storm, args=(n,)) for n in range(3)]
    for w in writers:
        w.start()
    while len(acked) < 50:
        stop.wait(0.01)
    before = list(acked)
    target = tmp_path / "backup.db"
    r = kanban("backup", str(target))
    stop.set()
    for w in writers:
        w.join()
    assert r.code == 0, r.err
    assert len(acked) > len(before)  # writes went on during the backup
    assert kanban("backup", str(target)).code == 1  # never overwrites
    new_home = tmp_path / "restored"
    new_home.mkdir()
    new_url = f"sqlite:///{new_home / 'kanban.db'}"
    r = kanban("restore", str(target), env={"KANBAN_HOME": str(new_home), "KANBAN_DATABASE_URL": new_url})
    assert r.code == 0, r.err
    r = kanban("db", "check", "--json", env={"KANBAN_HOME": str(new_home), "KANBAN_DATABASE_URL": new_url})
    assert r.code == 0 and r.json()["ok"] is True, r.out
    restored = open_ctx(load_settings({"KANBAN_HOME": str(new_home), "KANBAN_DATABASE_URL": new_url}))
    have = {t.id for t in tasks.list_tasks(restored, "default")}
    assert set(before) <= have
    assert all(len(tasks.show(restored, "default", t).comments) == 1 for t in before[:20])
    # Restoring over a home that has a database is refused, and changes nothing.
    r = kanban("restore", str(target), env={"KANBAN_HOME": str(new_home), "KANBAN_DATABASE_URL": new_url})
    assert r.code == 1 and "already has a database" in r.err
    r = kanban("restore", str(tmp_path / "backup.db.nope"))
    assert r.code == 2


def test_restore_refuses_what_is_not_a_backup(kanban, tmp_path, db_url):
    if not db_url.startswith("sqlite"):
        r = kanban("restore", str(tmp_path / "dump.pgc"))
        assert r.code == 2 and "no such file" in r.err
        (tmp_path / "dump.pgc").write_bytes(b"PGDMP")
        r = kanban("restore", str(tmp_path / "dump.pgc"))
        assert r.code == 1 and r.out.startswith("pg_restore --exit-on-error --dbname ")
        return
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    home = tmp_path / "fresh"
    home.mkdir()
    env = {"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": f"sqlite:///{home / 'kanban.db'}"}
    r = kanban("restore", str(junk), env=env)
    assert r.code == 2 and "not a SQLite database" in r.err
    assert not (home / "kanban.db").exists()


def populate(ctx) -> None:
    user = Actor("user")
    a = tasks.create(ctx, "default", title="parent", actor=user, assignee="coder", body="**b**",
                     skills=["git"], tenant="acme", priority=2).task
    b = tasks.create(ctx, "default", title="child", actor=user, parents=[a.id]).task
    comments.add(ctx, "default", b.id, "a comment", actor=user)
    subs.subscribe(ctx, "default", a.id, platform="telegram", chat_id="-100")
    c = runs.claim(ctx, "default", a.id, profile="coder", lock="x", ttl=900)
    assert c is not None
    worker = Actor("coder", worker_task=a.id, run_id=c.run_id, run_token=c.token)
    transitions.complete(ctx, "default", a.id, actor=worker, summary="done", metadata={"k": [1, 2]})
    d = tasks.create(ctx, "default", title="running at export", actor=user, assignee="coder").task
    assert runs.claim(ctx, "default", d.id, profile="coder", lock="x", ttl=900)
    from agentkanban.services import boards

    boards.create(ctx, "ops", name="Ops")
    tasks.create(ctx, "ops", title="on another board", actor=user)
    links.link  # noqa: B018 - links made above through --parent


def test_export_import_round_trip_across_backends(kanban, home, tmp_path, db_url, pg_url):
    """From this run's backend to the other one and back out: the same stream, byte for byte."""
    src_url = db_url
    other_url = pg_url if db_url.startswith("sqlite") else f"sqlite:///{tmp_path / 'dst.db'}"
    src = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": src_url}))
    populate(src)
    r1 = kanban("export")
    assert r1.code == 0, r1.err
    lines = r1.out.splitlines()
    assert json.loads(lines[0]) == {"kind": "header", "format": "agentkanban", "version": 1}
    assert json.loads(lines[-1])["counts"]["task"] == 4
    for secret in ("claim_lock", "token_hash", "worker_pid", "claim_expires", "workspace_path", str(home)):
        assert secret not in r1.out
    dump = tmp_path / "all.jsonl"
    dump.write_text(r1.out)
    pg_home = tmp_path / "other-home"
    pg_home.mkdir()
    env = {"KANBAN_HOME": str(pg_home), "KANBAN_DATABASE_URL": other_url}
    r = kanban("import", str(dump), "--json", env=env)
    assert r.code == 0, r.err
    assert r.json()["tasks"] == 4 and r.json()["renamed"] == {}
    r2 = kanban("export", env=env)
    assert r2.out == r1.out  # the same stream, byte for byte
    assert kanban("db", "check", env=env).code == 0
    # Importing again into the same home: every id collides, so each task gets a new one.
    r = kanban("--board", "default", "export", "-o", str(tmp_path / "one.jsonl"), env=env)
    assert r.code == 0
    r = kanban("import", str(tmp_path / "one.jsonl"), "--board", "copy", "--json", env=env)
    assert r.code == 0, r.err
    renamed = r.json()["renamed"]
    assert len(renamed) == 3
    pg = open_ctx(load_settings(env))
    copied = tasks.list_tasks(pg, "copy")
    assert {t.id for t in copied} == set(renamed.values())
    child = next(t for t in copied if t.title == "child")
    parent = next(t for t in copied if t.title == "parent")
    detail = tasks.show(pg, "copy", child.id)
    assert detail.parents == [parent.id]  # its link followed the new ids
    assert [c.body for c in detail.comments] == ["a comment"]
    assert [r.outcome for r in tasks.show(pg, "copy", parent.id).runs] == ["completed"]
    store_engine.close_all()


@pytest.mark.parametrize("mutate,message", [
    (lambda ls: ls[:-1], "truncated: the file ends at line"),
    (lambda ls: ls[:3] + [ls[3][: len(ls[3]) // 2]] + ls[4:], "line 4: not JSON"),
    (lambda ls: ['{"kind": "task", "id": "t_00000000"}'] + ls[1:], "line 1: not an agentkanban export"),
    (lambda ls: ls[:2] + ['{"kind": "gizmo"}'] + ls[2:], "line 3: unknown record kind 'gizmo'"),
    (lambda ls: [ls[0], *ls[1:-1][::-1][:2], ls[-1]], "the end record counts"),
    (lambda ls: [""], "the file is empty"),
    (lambda ls: ["", *ls[:2], '{"kind": "task", "id": "t_1"}', *ls[2:]], "line 4: task record lacks 'board'"),
])
def test_bad_jsonl_names_the_line_and_imports_nothing(kanban, home, db_url, tmp_path, mutate, message):
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    populate(ctx)
    lines = kanban("export").out.splitlines()
    before = kanban("export").out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(mutate(lines)) + "\n")
    r = kanban("import", str(bad), "--board", "elsewhere")
    assert r.code == 2 and message in r.err, r.err
    assert kanban("export").out == before  # nothing half-imported
    r = kanban("import", str(tmp_path / "../" / "db.sqlite"), "--from", "vibe-kanban")
    assert r.code == 2


def test_status_and_doctor_commands(kanban, home):
    assert kanban("init").code == 0
    r = kanban("status")
    assert r.code == 1 and "dispatcher: DOWN" in r.out and "database:   ok" in r.out
    (home / "config.yaml").write_text("serve:\n  dispatch: false\n  notify: false\n")
    r = kanban("status", "--json")
    assert r.code == 0 and r.json()["status"] == "ok"
    assert kanban("doctor").out.strip() == "nothing wrong found"
    kanban("create", "lonely")
    r = kanban("doctor", "--json")
    assert r.code == 1 and [f["code"] for f in r.json()["findings"]] == ["ready_unassigned"]
    r = kanban("doctor", "--repair")
    assert r.code == 1 and "ready_unassigned" in r.out and "fix: assign it" in r.out


def test_schedule_commands(kanban):
    r = kanban("schedule", "add", "Triage", "--cron", "0 9 * * MON-FRI", "--tz", "Europe/Berlin",
               "--assignee", "triager", "--max-runtime", "30m", "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert s["template"] == {"assignee": "triager", "max_runtime_seconds": 1800, "priority": 0}
    assert kanban("schedule", "list").out.startswith(s["id"])
    assert "paused" in kanban("schedule", "pause", s["id"]).out
    assert "next" in kanban("schedule", "resume", s["id"]).out
    r = kanban("schedule", "add", "x", "--cron", "0 9 * *")
    assert r.code == 2 and "cron:" in r.err
    r = kanban("schedule", "add", "x", "--cron", "0 9 * * *", "--tz", "Nowhere/Land")
    assert r.code == 2 and "tz:" in r.err
    assert kanban("schedule", "rm", s["id"]).code == 0
    assert kanban("schedule", "rm", s["id"]).code == 1
    assert kanban("schedule", "list", "--json").json() == {"schedules": []}
