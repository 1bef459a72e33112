"""Is there room to write? A full disk makes every write fail; health checks should say so."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .base import Ctx


def _paths(ctx: Ctx) -> list[Path]:
    paths = [ctx.home]
    url = ctx.settings.database_url
    if url.startswith("sqlite") and "///" in url:
        db = url.split("///", 1)[1].split("?", 1)[0]
        if db and db != ":memory:":
            paths.append(Path(db).parent)
    return paths


def status(ctx: Ctx) -> dict[str, Any]:
    """``{"ok": bool, "free_bytes": n}``: the least free space among the home folder (worker logs,
    workspaces) and a SQLite database's folder, against ``serve.min_free_disk_bytes``."""
    free: int | None = None
    for path in _paths(ctx):
        probe = path
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            n = shutil.disk_usage(probe).free
        except OSError:
            continue
        free = n if free is None else min(free, n)
    if free is None:
        return {"ok": False, "free_bytes": None}
    return {"ok": free >= ctx.settings.serve.min_free_disk_bytes, "free_bytes": free}
