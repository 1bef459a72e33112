"""A board's default workspace (``default_workdir``, ``default_workspace_kind``) and its use for new
tasks: a task created without a workspace gets the board's; a ``dir`` or ``worktree`` task created
without a path gets the board's directory."""

from __future__ import annotations

import os

from ..domain.models import WORKSPACE_KINDS, Board
from ..errors import Conflict, ValidationError
from ..store import boards as store_boards
from .base import Ctx


def clean(workdir: str | None, kind: str | None) -> dict[str, str | None]:
    """The columns to write; ``""`` clears a value, ``None`` leaves it alone."""
    values: dict[str, str | None] = {}
    if workdir is not None:
        path = workdir.strip()
        if path and (not os.path.isabs(path) or "\x00" in path):
            raise ValidationError(f"default_workdir must be an absolute path, got {workdir!r}")
        values["default_workdir"] = os.path.normpath(path) if path else None
    if kind is not None:
        k = kind.strip()
        if k and k not in WORKSPACE_KINDS:
            raise ValidationError(f"unknown workspace kind {kind!r}; use scratch, dir or worktree")
        values["default_workspace_kind"] = k or None
    return values


def set_defaults(ctx: Ctx, slug: str, *, workdir: str | None, kind: str | None) -> Board | None:
    values = clean(workdir, kind)
    with ctx.store.write() as tx:
        if values:
            board = store_boards.get(tx.conn, slug)
            merged_kind = values.get("default_workspace_kind", board.default_workspace_kind if board else None)
            merged_dir = values.get("default_workdir", board.default_workdir if board else None)
            if merged_kind in ("dir", "worktree") and not merged_dir:
                why = f"a default workspace kind of {merged_kind!r} needs a default_workdir"
                if "default_workdir" in values:  # cleared in the same request: malformed input
                    raise ValidationError(why)
                raise Conflict(f"{why}, and board {slug!r} has none; give one with it")
            store_boards.set_fields(tx.conn, slug, values)
        return store_boards.get(tx.conn, slug)


def workspace_for(ctx: Ctx, board: str, kind: str | None, path: str | None) -> tuple[str | None, str | None]:
    """``(kind, path)`` for a new task on ``board``, the board's defaults filling what is missing."""
    if kind and ":" in kind:
        return kind, path
    if (kind or "scratch") == "scratch" and kind is not None:
        return kind, path
    if kind is not None and path:
        return kind, path
    with ctx.store.read() as conn:
        b = store_boards.get(conn, board)
    if b is None or not b.default_workdir:
        return kind, path
    if kind is None:
        k = b.default_workspace_kind or "dir"
        return k, (b.default_workdir if k != "scratch" else None)
    return kind, b.default_workdir
