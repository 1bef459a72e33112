"""Boards: isolated sets of tasks, each with its own workspaces and logs folders."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..domain.models import Board
from ..errors import NotFound, ValidationError
from ..ids import TASK_ID_RE
from ..store import boards as store_boards
from ..store import tasks as store_tasks
from .base import Ctx

DEFAULT_BOARD = "default"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def normalize_slug(raw: str) -> str:
    """Fold case and check the slug; anything that could escape a folder is refused."""
    slug = (raw or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError(
            f"invalid board slug {raw!r}: use 1-64 characters a-z, 0-9, '-' or '_', "
            "starting with a letter or digit"
        )
    return slug


def _pointer(ctx: Ctx) -> Path:
    return ctx.home / "current"


def workspaces_dir(ctx: Ctx, slug: str) -> Path:
    return ctx.board_dir(normalize_slug(slug)) / "workspaces"


def logs_dir(ctx: Ctx, slug: str) -> Path:
    return ctx.board_dir(normalize_slug(slug)) / "logs"


def log_file(ctx: Ctx, slug: str, task_id: str) -> Path:
    """A task's worker log (every attempt's output, local or from a runner, in one file)."""
    if not TASK_ID_RE.match(task_id):  # the id becomes a file name: nothing that could escape
        raise ValidationError(f"not a task id: {task_id!r}")
    return logs_dir(ctx, slug) / f"{task_id}.log"


def get(ctx: Ctx, slug: str, *, include_archived: bool = True) -> Board:
    slug = normalize_slug(slug)
    with ctx.store.read() as conn:
        board = store_boards.get(conn, slug)
    if board is None or (board.archived and not include_archived):
        raise NotFound(f"board {slug!r} does not exist; see `kanban boards list`")
    return board


def exists(ctx: Ctx, slug: str) -> bool:
    with ctx.store.read() as conn:
        board = store_boards.get(conn, slug)
    return board is not None and not board.archived


def current(ctx: Ctx) -> str:
    """The saved current-board pointer, or ``default`` when unset or stale."""
    try:
        slug = _pointer(ctx).read_text().strip()
        slug = normalize_slug(slug)
    except (OSError, ValidationError):
        return DEFAULT_BOARD
    return slug if exists(ctx, slug) else DEFAULT_BOARD


def resolve(ctx: Ctx, explicit: str | None = None) -> str:
    """``--board`` flag -> ``KANBAN_BOARD`` -> saved pointer -> ``default``."""
    for raw in (explicit, ctx.settings.board):
        if raw:
            slug = normalize_slug(raw)
            if slug != DEFAULT_BOARD and not exists(ctx, slug):
                raise NotFound(f"board {slug!r} does not exist; create it with `kanban boards create {slug}`")
            return slug
    return current(ctx)


def _ensure_dirs(ctx: Ctx, slug: str) -> None:
    for d in (workspaces_dir(ctx, slug), logs_dir(ctx, slug)):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)  # worker output may hold secrets


def create(ctx: Ctx, slug: str, *, name: str | None = None, description: str | None = None,
           icon: str | None = None, color: str | None = None) -> Board:
    """Create a board; creating an existing slug returns it (and restores it if archived)."""
    slug = normalize_slug(slug)
    now = ctx.now()
    with ctx.store.write() as tx:
        existing = store_boards.get(tx.conn, slug)
        if existing is None:
            store_boards.insert_board(tx.conn, {
                "slug": slug,
                "name": (name or "").strip() or slug.replace("-", " ").replace("_", " ").title(),
                "description": description or "", "icon": icon or "", "color": color or "",
                "created_at": now,
            })
        else:
            values: dict[str, Any] = {"archived_at": None}
            # A blank name keeps the board's own, as it gives a new board a name from its slug.
            values.update(_meta(name if (name or "").strip() else None, description, icon, color))
            store_boards.set_fields(tx.conn, slug, values)
        board = store_boards.get(tx.conn, slug)
    _ensure_dirs(ctx, slug)
    assert board is not None
    return board


def _meta(name: str | None, description: str | None, icon: str | None,
          color: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise ValidationError("board name cannot be empty")
        values["name"] = name.strip()
    for key, val in (("description", description), ("icon", icon), ("color", color)):
        if val is not None:
            values[key] = val
    return values


def update(ctx: Ctx, slug: str, *, name: str | None = None, description: str | None = None,
           icon: str | None = None, color: str | None = None) -> Board:
    board = get(ctx, slug)
    values = _meta(name, description, icon, color)
    with ctx.store.write() as tx:
        if values:
            store_boards.set_fields(tx.conn, board.slug, values)
        updated = store_boards.get(tx.conn, board.slug)
    assert updated is not None
    return updated


def switch(ctx: Ctx, slug: str) -> str:
    board = get(ctx, slug, include_archived=False)
    ctx.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _pointer(ctx).with_suffix(".tmp")
    tmp.write_text(board.slug + "\n")
    os.replace(tmp, _pointer(ctx))  # atomic: a reader sees the old or the new pointer, never half
    return board.slug


def list_boards(ctx: Ctx, include_archived: bool = False) -> list[dict[str, Any]]:
    cur = current(ctx)
    with ctx.store.read() as conn:
        boards = store_boards.all_boards(conn, include_archived)
        counts = store_tasks.status_counts_all(conn)
    boards.sort(key=lambda b: (b.slug != DEFAULT_BOARD, b.slug))
    out = []
    for b in boards:
        d = b.to_dict()
        d["is_current"] = b.slug == cur
        d["counts"] = counts.get(b.slug, {})
        d["total"] = sum(d["counts"].values())
        out.append(d)
    return out


def remove(ctx: Ctx, slug: str, *, hard: bool = False) -> dict[str, Any]:
    """Archive a board (recoverable with ``boards create``) or delete it with all its tasks."""
    slug = normalize_slug(slug)
    if slug == DEFAULT_BOARD:  # malformed input, as the seed answers it (400), from every surface
        raise ValidationError("the default board can be neither archived nor deleted")
    get(ctx, slug)
    folder = ctx.board_dir(slug)
    with ctx.store.write() as tx:
        if hard:
            store_boards.delete_board(tx.conn, slug)
        else:
            store_boards.set_fields(tx.conn, slug, {"archived_at": ctx.now()})
    if hard and folder.is_dir() and folder.parent == ctx.home / "boards":
        shutil.rmtree(folder, ignore_errors=True)
    if _pointer(ctx).exists() and _pointer(ctx).read_text().strip() == slug:
        _pointer(ctx).unlink(missing_ok=True)
    return {"slug": slug, "action": "deleted" if hard else "archived",
            "new_path": None if hard else str(folder)}
