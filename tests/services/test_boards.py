"""Boards: slugs, isolation, the resolution chain, archive and delete."""

from __future__ import annotations

import pytest

from agentkanban.config import load_settings
from agentkanban.errors import NotFound, ValidationError
from agentkanban.services import boards, open_ctx, subs, tasks, views


@pytest.mark.parametrize("raw,slug", [("Proj", "proj"), (" my-board_2 ", "my-board_2"), ("9", "9")])
def test_slug_normalisation(raw, slug) -> None:
    assert boards.normalize_slug(raw) == slug


@pytest.mark.parametrize("raw", ["", "../etc", "a/b", "a b", "-x", "_x", "x" * 65, "ü", "a.b", "..",
                                 "a\x00"])
def test_bad_slugs_refused(ctx, raw) -> None:
    with pytest.raises(ValidationError, match="invalid board slug"):
        boards.create(ctx, raw)
    assert [b["slug"] for b in boards.list_boards(ctx, True)] == ["default"]
    assert not any(p.name != "default" for p in (ctx.home / "boards").glob("*"))


def test_create_is_idempotent_and_makes_folders(ctx) -> None:
    b = boards.create(ctx, "Alpha", name="Alpha team", icon="A", color="#f00")
    assert (b.slug, b.name, b.icon, b.color) == ("alpha", "Alpha team", "A", "#f00")
    assert boards.create(ctx, "alpha").name == "Alpha team"
    assert boards.workspaces_dir(ctx, "alpha").is_dir() and boards.logs_dir(ctx, "alpha").is_dir()
    assert boards.update(ctx, "alpha", name="Renamed").name == "Renamed"
    with pytest.raises(ValidationError):
        boards.update(ctx, "alpha", name=" ")


def test_boards_are_isolated(ctx, user) -> None:
    boards.create(ctx, "a")
    boards.create(ctx, "b")
    ta = tasks.create(ctx, "a", title="in a", actor=user).task
    with pytest.raises(NotFound):
        tasks.get(ctx, "b", ta.id)
    assert tasks.list_tasks(ctx, "b") == []
    assert views.board_view(ctx, "b")["columns"][2]["tasks"] == []
    assert views.stats(ctx, "a")["by_status"]["ready"] == 1
    assert views.stats(ctx, "b")["by_status"] == {}  # only the statuses present
    listed = {b["slug"]: b["total"] for b in boards.list_boards(ctx)}
    assert listed == {"default": 0, "a": 1, "b": 0}
    tb = tasks.create(ctx, "b", title="in b", actor=user).task
    subs.subscribe(ctx, "a", ta.id, platform="slack", chat_id="C1")
    subs.subscribe(ctx, "b", tb.id, platform="slack", chat_id="C2")
    assert [s.task_id for s in subs.list_subs(ctx, "a")] == [ta.id]
    assert [s.task_id for s in subs.list_subs(ctx, "b")] == [tb.id]


def test_resolution_chain(ctx, settings) -> None:
    boards.create(ctx, "flag")
    boards.create(ctx, "env")
    boards.create(ctx, "saved")
    assert boards.resolve(ctx) == "default"
    boards.switch(ctx, "saved")
    assert boards.resolve(ctx) == "saved"
    env_ctx = open_ctx(load_settings({"KANBAN_HOME": str(settings.home),
                                      "KANBAN_DATABASE_URL": settings.database_url,
                                      "KANBAN_BOARD": "env"}))
    assert boards.resolve(env_ctx) == "env"
    assert boards.resolve(env_ctx, "FLAG") == "flag"
    with pytest.raises(NotFound):
        boards.resolve(ctx, "missing")
    with pytest.raises(ValidationError):
        boards.resolve(ctx, "../x")
    boards.remove(ctx, "saved")  # archiving the saved board falls back to default
    assert boards.resolve(ctx) == "default"


def test_archive_restore_and_delete(ctx, user) -> None:
    boards.create(ctx, "tmp")
    t = tasks.create(ctx, "tmp", title="x", actor=user).task
    assert boards.remove(ctx, "tmp")["action"] == "archived"
    assert "tmp" not in [b["slug"] for b in boards.list_boards(ctx)]
    assert "tmp" in [b["slug"] for b in boards.list_boards(ctx, include_archived=True)]
    with pytest.raises(NotFound):
        boards.switch(ctx, "tmp")
    boards.create(ctx, "tmp")  # restores, tasks intact
    assert tasks.get(ctx, "tmp", t.id).title == "x"
    assert boards.remove(ctx, "tmp", hard=True)["action"] == "deleted"
    assert not ctx.board_dir("tmp").exists()
    with pytest.raises(NotFound):
        boards.get(ctx, "tmp")
    boards.create(ctx, "tmp")
    assert tasks.list_tasks(ctx, "tmp", include_archived=True) == []


def test_default_board_is_permanent(ctx) -> None:
    for hard in (False, True):  # one answer from every surface: malformed input (400, as the seed)
        with pytest.raises(ValidationError, match="default board"):
            boards.remove(ctx, "default", hard=hard)
    with pytest.raises(NotFound):
        boards.remove(ctx, "nope")
