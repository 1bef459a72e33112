"""Reading a task's worker log for ``GET /tasks/{id}/log``: the dispatcher owns the file."""

from __future__ import annotations

from typing import Any

from ..dispatch.logs import read_log
from ..services.base import Ctx


def read_task_log(ctx: Ctx, board: str, task_id: str, *, tail_bytes: int | None = None) -> dict[str, Any]:
    """``{task_id, path, exists, size_bytes, content, truncated}``."""
    return read_log(ctx, board, task_id, tail_bytes=tail_bytes)
