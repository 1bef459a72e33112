"""The ``kanban`` command: verbs, JSON shapes, exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

from agentkanban.config import load_settings
from agentkanban.services import Actor, boards, open_ctx, runs, transitions
from agentkanban.store import migrate


def _create(kanban, *args: str) -> str:
    r = kanban("create", *args, "--json")
    assert r.code == 0, r.err
    return r.json()["task"]["id"]


def test_create_list_show_json(kanban) -> None:
    parent = _create(kanban, "parent", "--assignee", "coder", "--priority", "3", "--tenant", "acme")
    child = _create(kanban, "child", "--parent", parent, "--skill", "py", "--max-runtime", "5m")
    listed = kanban("list", "--json").json()
    assert listed["board"] == "default"
    assert [(t["id"], t["status"]) for t in listed["tasks"]] == [(parent, "ready"), (child, "todo")]
    shown = kanban("show", child[:6], "--json").json()
    assert set(shown) == {"task", "comments", "events", "links", "runs", "context", "usage", "retry", "runs_on"}
    assert shown["usage"]["total"]["reports"] == 0 and shown["usage"]["max_cost_usd"] is None
    assert shown["retry"] is None  # no failed attempt to wait out
    assert shown["links"] == {"parents": [parent], "children": []}
    assert shown["task"]["max_runtime_seconds"] == 300 and shown["task"]["skills"] == ["py"]
    assert shown["context"].startswith(f"# Kanban task {child}: child")
    assert kanban("list", "--status", "todo", "--json").json()["tasks"][0]["id"] == child
    assert kanban("list", "--tenant", "acme", "--json").json()["tasks"][0]["id"] == parent


def test_human_output(kanban) -> None:
    tid = _create(kanban, "a task for people")
    r = kanban("list")
    assert r.code == 0 and tid in r.out and "a task for people" in r.out
    r = kanban("create", "ready and assigned", "--assignee", "coder")
    assert r.out.startswith("Created t_") and "no dispatcher is running" in r.err


def test_exit_codes_and_errors(kanban) -> None:
    r = kanban("show", "t_deadbeef")
    assert r.code == 1 and r.err.startswith("error: task t_deadbeef not found")
    r = kanban("create", "   ")
    assert r.code == 2 and "title cannot be empty" in r.err
    r = kanban("create", "x", "--workspace", "dir:rel")
    assert r.code == 2 and "absolute" in r.err
    r = kanban("--board", "../x", "list")
    assert r.code == 2 and "invalid board slug" in r.err
    r = kanban("--board", "nope", "list")
    assert r.code == 1 and "does not exist" in r.err
    r = kanban("frobnicate")
    assert r.code == 2
    r = kanban("list", "--sort", "bogus")
    assert r.code == 2
    tid = _create(kanban, "t")
    r = kanban("complete", tid, "--metadata", "{bad")
    assert r.code == 2 and "metadata is not valid JSON" in r.err
    assert kanban("show", tid, "--json").json()["task"]["status"] == "ready"  # unchanged
    assert len(r.err.strip().splitlines()) == 1


def test_lifecycle_verbs(kanban) -> None:
    a, b = _create(kanban, "a"), _create(kanban, "b")
    assert kanban("link", a, b).out.strip() == "linked"
    assert kanban("show", b, "--json").json()["task"]["status"] == "todo"
    assert kanban("link", b, a).code == 2  # cycle
    assert kanban("unlink", a, b).code == 0
    assert kanban("unlink", a, b).code == 1
    assert "comment #" in kanban("comment", a, "looks", "good", "--author", "alice").out
    assert kanban("block", a, "need", "creds").code == 0
    assert kanban("show", a, "--json").json()["task"]["status"] == "blocked"
    assert kanban("unblock", a).code == 0
    assert kanban("assign", a, "reviewer").code == 0
    assert kanban("priority", a, "7").code == 0
    assert kanban("edit", a, "--title", "renamed").code == 0
    assert kanban("move", a, "triage").code == 0
    r = kanban("complete", a, "--summary", "shipped", "--metadata", '{"pr": 12}', "--json")
    assert r.json() == {"completed": [a]}
    task = kanban("show", a, "--json").json()
    assert task["task"]["status"] == "done" and task["task"]["title"] == "renamed"
    assert task["runs"][0]["metadata"] == {"pr": 12} and task["comments"][0]["author"] == "alice"
    assert kanban("complete", a, b, "--summary", "x").code == 2  # one summary, one task
    assert kanban("archive", a).code == 0
    assert kanban("archive", "--rm", b).code == 1  # b is not archived
    assert kanban("archive", "--rm", a).out.strip() == f"deleted {a}"
    assert kanban("show", a).code == 1
    runs_out = kanban("runs", b, "--json").json()
    assert runs_out == {"runs": []}


def test_boards_commands(kanban) -> None:
    assert kanban("boards", "create", "Proj", "--name", "Project", "--switch").code == 0
    data = kanban("boards", "list", "--json").json()
    assert data["current"] == "proj" and [b["slug"] for b in data["boards"]] == ["default", "proj"]
    tid = _create(kanban, "on proj")
    assert kanban("--board", "default", "show", tid).code == 1
    assert kanban("boards", "rename", "proj", "New name").code == 0
    assert kanban("boards", "show", "--json").json()["board"]["name"] == "New name"
    assert kanban("boards", "switch", "default").code == 0
    assert kanban("show", tid).code == 1
    assert kanban("--board", "proj", "show", tid).code == 0
    assert kanban("boards", "rm", "default").code == 2  # malformed input, as from the API (400)
    assert kanban("boards", "rm", "proj").code == 0
    assert kanban("boards", "rm", "proj", "--delete", "--yes").code == 0
    assert [b["slug"] for b in kanban("boards", "list", "--all", "--json").json()["boards"]] == ["default"]


def test_stats_assignees_watch_tail_gc_db(kanban) -> None:
    tid = _create(kanban, "x", "--assignee", "coder")
    assert kanban("stats", "--json").json()["by_status"]["ready"] == 1
    assert kanban("assignees", "--json").json()["assignees"][0]["name"] == "coder"
    kanban("comment", tid, "hi")
    r = kanban("tail", tid, "--count", "2", "--json")
    assert [line.split('"kind": "')[1].split('"')[0] for line in r.out.splitlines()] == ["created", "commented"]
    r = kanban("watch", "--since", "0", "--count", "1")
    assert "created" in r.out
    assert kanban("gc", "--json").json() == {"events_deleted": 0, "workspaces_removed": 0, "logs_removed": 0}
    assert kanban("db", "upgrade").out.strip() == f"database at revision {migrate.HEAD}"
    assert kanban("db", "current").out.strip() == migrate.HEAD


def test_worker_defaults_to_its_own_task(kanban, home, db_url) -> None:
    mine, other = _create(kanban, "mine", "--assignee", "coder"), _create(kanban, "other")
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    claim = runs.claim(ctx, "default", mine, profile="coder", lock="t", ttl=60)
    assert claim is not None
    env = {"KANBAN_TASK_ID": mine, "KANBAN_RUN_ID": str(claim.run_id),
           "KANBAN_RUN_TOKEN": claim.token, "KANBAN_PROFILE": "coder"}
    assert kanban("show", "--json", env=env).json()["task"]["id"] == mine
    r = kanban("complete", other, "--summary", "not mine", env=env)
    assert r.code == 1 and "own task" in r.err
    assert kanban("comment", mine, "working", "--author", "someone-else", env=env).code == 0
    assert kanban("complete", "--summary", "done", "--metadata", '{"n": 1}', env=env).code == 0
    shown = kanban("show", mine, "--json").json()
    assert shown["task"]["status"] == "done" and shown["comments"][0]["author"] == "coder"
    assert kanban("show").code == 2  # outside a worker an id is required


def test_real_process(home, db_url) -> None:
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}
    env.pop("KANBAN_TASK_ID", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agentkanban", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    assert run("create", "from a process").returncode == 0
    listed = run("list", "--json")
    assert listed.returncode == 0 and '"from a process"' in listed.stdout
    bad = run("show", "t_00000000")
    assert bad.returncode == 1 and bad.stderr.startswith("error:")


def test_list_json_imports_only_what_it_needs(home) -> None:
    """`kanban list` runs in agents' loops: its start-up is SQLAlchemy, click and orjson, nothing more."""
    env = {**os.environ, "KANBAN_HOME": str(home)}
    for var in ("KANBAN_DATABASE_URL", "KANBAN_TASK_ID", "KANBAN_BOARD"):
        env.pop(var, None)
    assert subprocess.run([sys.executable, "-m", "agentkanban", "init"], env=env, capture_output=True,
                          timeout=60).returncode == 0  # creates and migrates the SQLite database
    code = ("import os, sys\n"
            "from agentkanban.cli import main\n"
            "try:\n    main(['list', '--json'])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith("{"), r.stderr
    loaded = set(r.stderr.split())
    tops = {m.split(".")[0] for m in loaded if not m.startswith("_")} - set(sys.stdlib_module_names)
    assert tops <= {"agentkanban", "click", "orjson", "sqlalchemy", "typing_extensions", "cython_runtime"}
    assert not {m for m in loaded if m.startswith("sqlalchemy.dialects.postgresql")}


def test_the_program_closes_its_connections(home) -> None:
    """Run as a program, the CLI freezes its imports out of the GC; it still closes the database
    (SQLite then checkpoints and removes the WAL file, as it would at a plain exit)."""
    env = {**os.environ, "KANBAN_HOME": str(home)}
    for var in ("KANBAN_DATABASE_URL", "KANBAN_TASK_ID", "KANBAN_BOARD"):
        env.pop(var, None)
    for title in ("one", "two"):
        r = subprocess.run([sys.executable, "-m", "agentkanban", "create", title], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    assert (home / "kanban.db").exists() and not (home / "kanban.db-wal").exists()
    r = subprocess.run([sys.executable, "-m", "agentkanban", "show", "t_00000000"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and not (home / "kanban.db-wal").exists()


def test_gc_keeps_the_scratch_of_an_archived_task_whose_worker_is_alive(kanban, home, db_url) -> None:
    tid = _create(kanban, "long goodbye", "--assignee", "coder")
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    claim = runs.claim(ctx, "default", tid, profile="coder", lock="t", ttl=60)
    assert claim is not None
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              env={"KANBAN_RUN_ID": str(claim.run_id), "KANBAN_TASK_ID": tid})
    try:
        runs.set_worker(ctx, "default", tid, claim.run_id, pid=worker.pid)
        transitions.archive(ctx, "default", tid, actor=Actor("user"))
        folder = boards.workspaces_dir(ctx, "default") / tid
        folder.mkdir(parents=True)
        assert kanban("gc", "--json").json()["workspaces_removed"] == 0 and folder.is_dir()
    finally:
        worker.kill()
        worker.wait()
    assert kanban("gc", "--json").json()["workspaces_removed"] == 1 and not folder.exists()
def test_attach_schedule_delete_and_specify_commands(kanban, tmp_path):
    tid = kanban("create", "with files", "--json").json()["task"]["id"]
    f = tmp_path / "notes.md"
    f.write_text("# notes\n")
    assert "attached notes.md (8 bytes)" in kanban("attach", str(f), "--task", tid).out
    listed = kanban("attachments", tid, "--json").json()
    assert [a["filename"] for a in listed] == ["notes.md"]
    bad = tmp_path / "x"
    bad.write_text("x")
    refused = kanban("attach", str(bad), "--task", tid, "--name", "../../x")
    assert refused.code != 0 and "plain name" in refused.err
    assert "scheduled" in kanban("defer", tid, "2h").out
    assert "ready" in kanban("defer", tid, "clear").out
    assert kanban("defer", tid, "whenever").code != 0
    triage = kanban("create", "idea", "--triage", "--json").json()["task"]["id"]
    nope = kanban("specify", triage, "--wait", "0")
    assert nope.code != 0 and "no orchestrator profile is set" in nope.err
    assert "deleted" in kanban("delete", tid, "--yes").out
    assert kanban("show", tid).code != 0
