"""Importers on fixtures written to match vibe-kanban's database and Backlog.md's folder exactly
(see the head of each fixture for what it was modelled on)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import ValidationError
from agentkanban.services import importers, integrity, tasks
from agentkanban.services import runs as runs_svc

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def vibe_db(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "vibe_kanban_2026.sql").read_text())
    conn.close()
    return path


def by_title(ctx, board: str) -> dict:
    return {t.title: t for t in tasks.list_tasks(ctx, board, include_archived=True)}


def test_vibe_kanban_projects_become_boards(ctx, vibe_db) -> None:
    result = importers.run(ctx, "vibe-kanban", vibe_db)
    assert result == {"source": "vibe-kanban", "boards": ["website", "cli-tool"], "added": 5,
                      "already_imported": 0}
    web = by_title(ctx, "website")
    assert {k: v.status for k, v in web.items()} == {
        "Add a dark theme": Status.DONE, "Theme toggle in the header": Status.BLOCKED,
        "Rewrite in WebGL": Status.ARCHIVED}
    dark, toggle = web["Add a dark theme"], web["Theme toggle in the header"]
    assert dark.body == "Use CSS variables; keep contrast AA."
    assert "waiting for review" in (toggle.body or "")
    assert tasks.show(ctx, "website", toggle.id).parents == [dark.id]  # started from its attempt
    history = runs_svc.list_runs(ctx, "website", dark.id)
    assert [(r.profile, r.outcome, round(r.ended_at - r.started_at)) for r in history] == [
        ("claude-code", "crashed", 1680), ("claude-code", "completed", 2700)]
    cli = by_title(ctx, "cli-tool")
    assert cli["Add --json to list"].status is Status.TRIAGE
    assert cli["Shell completions"].status is Status.BLOCKED
    assert runs_svc.list_runs(ctx, "cli-tool", cli["Shell completions"].id) == []  # still running there
    assert dark.created_at == pytest.approx(1767604200.125)  # 2026-01-05 09:10:00.125 UTC
    # Re-running adds nothing.
    again = importers.run(ctx, "vibe-kanban", vibe_db)
    assert again["added"] == 0 and again["already_imported"] == 5
    assert len(by_title(ctx, "website")) == 3
    assert integrity.check(ctx)["ok"]


def test_vibe_kanban_wrong_files_change_nothing(ctx, tmp_path, vibe_db) -> None:
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).executescript("CREATE TABLE tasks (id INTEGER, title TEXT);")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for path, msg in ((other, "not vibe-kanban's"), (text, "not a SQLite database"),
                      (tmp_path / "missing.sqlite", "no such file")):
        with pytest.raises(ValidationError, match=msg):
            importers.run(ctx, "vibe-kanban", path)
    with pytest.raises(ValidationError, match="--board: the source holds 2 projects"):
        importers.run(ctx, "vibe-kanban", vibe_db, board="one")
    with pytest.raises(ValidationError, match="not a Backlog.md folder"):
        importers.run(ctx, "backlog-md", vibe_db)
    assert tasks.list_tasks(ctx, "default", include_archived=True) == []


def test_backlog_md_folder(ctx, tmp_path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(FIXTURES / "backlog", project / "backlog")
    result = importers.run(ctx, "backlog-md", project)  # the project folder or its backlog/
    assert result["boards"] == ["shop-api"] and result["added"] == 6
    found = by_title(ctx, "shop-api")
    webhooks, invoice = found["Set up billing webhooks"], found["Invoice PDF"]
    assert webhooks.status is Status.BLOCKED and webhooks.assignee == "codex" and webhooks.priority == 2
    body = webhooks.body or ""
    assert "- [x] #1 Signature is verified" in body and "- [ ] #2 Replayed events are ignored" in body
    assert "## Implementation Plan" in body and "<!--" not in body
    assert "Labels: api, billing" in body
    assert invoice.status is Status.TRIAGE and invoice.priority == 1
    assert tasks.show(ctx, "shop-api", invoice.id).parents == [webhooks.id]
    pick = found["Pick a PDF library"]
    assert pick.assignee == "claude" and "Subtask of TASK-2." in (pick.body or "")
    assert found["Project skeleton"].status is Status.DONE
    assert (found["Loyalty points"].status, found["Loyalty points"].assignee) == (Status.TRIAGE, "alice")
    assert found["Old XML export"].status is Status.ARCHIVED
    assert "Architecture" not in found
    (project / "backlog" / "tasks" / "task-4 - New.md").write_text(
        "---\nid: TASK-4\ntitle: New one\nstatus: To Do\ndependencies: [TASK-2]\n---\n")
    again = importers.run(ctx, "backlog-md", project / "backlog")
    assert again["added"] == 1 and again["already_imported"] == 6
    assert tasks.show(ctx, "shop-api", by_title(ctx, "shop-api")["New one"].id).parents == [invoice.id]


@pytest.mark.parametrize("text,message", [
    ("no front matter here\n", "no front matter"),
    ("---\ntitle: [unclosed\n---\n", "front matter is not valid YAML"),
    ("---\nid: TASK-9\nstatus: To Do\n---\n", "front matter lacks 'title'"),
    ("---\nid: TASK-9\ntitle: x\ncreated_date: yesterday\n---\n", "created_date 'yesterday' is not a date"),
    ("---\nid: TASK-9\ntitle: x\ndependencies: [TASK-8]\n---\n", "cycle"),
])
def test_backlog_md_bad_file_names_it_and_imports_nothing(ctx, tmp_path, text, message) -> None:
    root = tmp_path / "backlog"
    shutil.copytree(FIXTURES / "backlog", root)
    (root / "tasks" / "task-8 - Loop.md").write_text(
        "---\nid: TASK-8\ntitle: loop\ndependencies: [TASK-9]\n---\n")
    (root / "tasks" / "task-9 - Bad.md").write_text(text)
    with pytest.raises(ValidationError, match=message) as err:
        importers.run(ctx, "backlog-md", root)
    if message != "cycle":
        assert "task-9 - Bad.md" in err.value.message
    assert tasks.list_tasks(ctx, "default", include_archived=True) == []
    from agentkanban.services import boards

    assert [b["slug"] for b in boards.list_boards(ctx)] == ["default"]


def test_vibe_kanban_before_the_workspaces_refactor(ctx, tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "vibe_kanban_2025.sql").read_text())
    conn.close()
    assert importers.run(ctx, "vibe-kanban", path)["added"] == 2
    found = by_title(ctx, "docs-site")
    page, shots = found["Write the install page"], found["Screenshots for the install page"]
    assert (page.status, shots.status) == (Status.DONE, Status.TRIAGE)
    assert tasks.show(ctx, "docs-site", shots.id).parents == [page.id]
    assert [(r.profile, r.outcome) for r in runs_svc.list_runs(ctx, "docs-site", page.id)] == [
        ("gemini", "reclaimed"), ("gemini", "completed")]
