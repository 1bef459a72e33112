"""Importers from other tools: each reads the tool's own files into :class:`common.Item` records,
and :func:`common.write` loads them in one transaction, idempotently (a re-run adds only what is new)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import ValidationError
from ..base import Ctx

SOURCES = ("vibe-kanban", "backlog-md")


def run(ctx: Ctx, source: str, path: Path, *, board: str | None = None) -> dict[str, Any]:
    from . import backlog_md, common, vibe_kanban

    if source == "vibe-kanban":
        projects = vibe_kanban.read(path)
    elif source == "backlog-md":
        projects = backlog_md.read(path)
    else:
        raise ValidationError(f"--from: unknown source {source!r}; one of {', '.join(SOURCES)}")
    return common.write(ctx, source, projects, board=board)
