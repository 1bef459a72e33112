"""Reading a task's worker log for ``GET /tasks/{id}/log``.

The dispatcher writes ``<board>/logs/<task_id>.log`` and rotates it to ``.log.1``; this reads the
current file (and, when a tail reaches past its start, the end of the backup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..services import boards
from ..services.base import Ctx

DEFAULT_TAIL = 2_000_000


def read_task_log(ctx: Ctx, board: str, task_id: str, *, tail_bytes: int | None = None) -> dict[str, Any]:
    """``{task_id, path, exists, size_bytes, content, truncated}``; size counts both files."""
    path = boards.logs_dir(ctx, board) / f"{task_id}.log"
    backup = path.with_name(path.name + ".1")
    cap = tail_bytes or DEFAULT_TAIL
    parts = [p for p in (backup, path) if p.is_file()]
    size = sum(p.stat().st_size for p in parts)
    data = _tail(parts, cap)
    truncated = size > cap
    if truncated:  # drop the partial first line
        nl = data.find(b"\n")
        data = data[nl + 1:] if nl != -1 else data
    return {"task_id": task_id, "path": str(path), "exists": bool(parts), "size_bytes": size,
            "content": data.decode("utf-8", errors="replace"), "truncated": truncated}


def _tail(parts: list[Path], cap: int) -> bytes:
    chunks: list[bytes] = []
    left = cap
    for p in reversed(parts):
        if left <= 0:
            break
        with p.open("rb") as fh:
            size = p.stat().st_size
            fh.seek(max(0, size - left))
            chunk = fh.read(left)
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(reversed(chunks))
