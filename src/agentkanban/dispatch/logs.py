"""Worker logs: one file per task in the board's logs folder, rotated with a bounded backup count."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..services import Ctx
from ..services import boards as boards_svc


def private_opener(path: str, flags: int) -> int:
    """``open(..., opener=private_opener)``: a new log is readable by its owner only (0600)."""
    return os.open(path, flags, 0o600)


def log_path(ctx: Ctx, board: str, task_id: str) -> Path:
    return boards_svc.log_file(ctx, board, task_id)


def _shift(path: Path, backups: int) -> None:
    """``x.log.(n-1)`` -> ``x.log.n`` ... ``x.log`` -> ``x.log.1``; the oldest falls off."""
    for i in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{i}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{i + 1}"))


def rotate_before_spawn(path: Path, limit: int, backups: int) -> bool:
    """Before a new attempt writes: move a log at or past ``limit`` bytes aside."""
    try:
        if path.stat().st_size < limit:
            return False
    except FileNotFoundError:
        return False
    if backups <= 0:
        path.unlink(missing_ok=True)
        return True
    _shift(path, backups)
    os.replace(path, path.with_name(f"{path.name}.1"))
    return True


def rotate_live(path: Path, limit: int, backups: int) -> bool:
    """While a worker writes (append mode, so it follows a truncation): copy the log to the
    backup and truncate it in place. A few lines written during the copy may be lost; the log
    stays bounded however long the attempt runs."""
    try:
        if path.stat().st_size < limit:
            return False
    except FileNotFoundError:
        return False
    if backups > 0:
        _shift(path, backups)
        shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    with open(path, "r+b") as f:
        f.truncate(0)
    return True


def read_log(ctx: Ctx, board: str, task_id: str, tail_bytes: int | None = None) -> dict[str, Any]:
    """``{task_id, path, exists, size_bytes, content, truncated}``; ``tail_bytes`` keeps the end only."""
    if tail_bytes is not None and tail_bytes < 0:
        raise ValidationError("tail must be a positive number of bytes")
    path = log_path(ctx, board, task_id)
    out: dict[str, Any] = {"task_id": task_id, "path": str(path), "exists": path.is_file(),
                           "size_bytes": 0, "content": "", "truncated": False}
    if not out["exists"]:
        return out
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        start = max(0, size - tail_bytes) if tail_bytes is not None else 0
        f.seek(start)
        data = f.read(size - start)
    if start:
        # Do not start in the middle of a UTF-8 sequence or a line.
        nl = data.find(b"\n")
        if 0 <= nl < len(data) - 1 and nl < 1024:
            data = data[nl + 1:]
    out.update(size_bytes=size, content=data.decode("utf-8", errors="replace"), truncated=start > 0)
    return out
