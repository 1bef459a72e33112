"""Files attached to tasks: what a person hands a worker, and what a worker hands back.

The bytes live in the attachment store (``attachments.dir`` in config.yaml, default
``$KANBAN_HOME/attachments``) under a random name the server chose, one directory per board; the
name the uploader gave is only ever metadata. Nothing is overwritten (``O_EXCL``), nothing outside
the store is reachable, and a file over ``attachments.max_bytes`` (25 MiB by default) is refused
before it is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import secrets
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from ..domain import events as ev
from ..domain.models import Attachment
from ..errors import NotFound, ValidationError
from ..store import attachments as store_att
from .base import Actor, Ctx
from .common import check_worker, load

MAX_NAME = 255
# Served as plain bytes whatever they claim to be: a browser would run what is inside them.
ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                "text/javascript", "application/javascript", "application/x-javascript")
SAFE_FALLBACK = "application/octet-stream"


def store_dir(ctx: Ctx) -> Path:
    configured = ctx.settings.attachments.dir
    return Path(configured).expanduser() if configured else ctx.home / "attachments"


def clean_filename(raw: str | None) -> str:
    """The uploader's name, checked: no path, no control characters, not empty, not too long."""
    name = (raw or "").strip()
    if not name:
        raise ValidationError("the file needs a name")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise ValidationError(f"file name {name!r} must be a plain name, without '/', '\\\\' or '..'")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise ValidationError("file name contains control characters; rename the file and retry")
    if len(name.encode()) > MAX_NAME:
        raise ValidationError(f"file name is longer than {MAX_NAME} bytes; rename the file and retry")
    return name


def guess_type(filename: str) -> str:
    kind, _ = mimetypes.guess_type(filename, strict=False)
    return kind or SAFE_FALLBACK


def served_type(att: Attachment) -> str:
    """The Content-Type to send: the guessed one, unless a browser could execute it."""
    base = att.content_type.split(";")[0].strip().lower()
    if base in ACTIVE_TYPES or base.endswith("+xml") or not base:
        return SAFE_FALLBACK
    return att.content_type


def check_size(ctx: Ctx, size: int) -> None:
    """Refuse ``size`` bytes past ``attachments.max_bytes`` (one rule, whoever reads the upload)."""
    limit = ctx.settings.attachments.max_bytes
    if size > limit:
        raise ValidationError(f"the file is larger than the {limit // (1024 * 1024)} MiB limit "
                              f"({limit} bytes); attachments.max_bytes in config.yaml sets it")


def check_target(ctx: Ctx, board: str, task_id: str, *, filename: str, actor: Actor) -> str:
    """The checked file name, once the task exists and ``actor`` may attach to it: what an
    upload is refused for before a byte of it is read."""
    name = clean_filename(filename)
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        check_worker(conn, task, actor, "attach files to")
    return name


def spool(ctx: Ctx) -> IO[bytes]:
    """An anonymous temporary file beside the attachment store, for an upload read before it is
    kept: on the store's disk (a temporary directory may live in memory), gone once closed."""
    folder = store_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=folder)


def add(ctx: Ctx, board: str, task_id: str, *, filename: str, chunks: Iterable[bytes], actor: Actor,
        uploaded_by: str | None = None) -> Attachment:
    """Keep ``chunks`` as a new attachment of the task. Refused past the size limit, nothing kept."""
    # Fail fast (a bad name, no task, the wrong worker) before reading the upload.
    name = check_target(ctx, board, task_id, filename=filename, actor=actor)
    folder = store_dir(ctx) / board
    folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    path = folder / stored
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                check_size(ctx, size)
                digest.update(chunk)
                out.write(chunk)
        now = ctx.now()
        with ctx.store.write() as tx:
            task = load(tx.conn, board, task_id)
            check_worker(tx.conn, task, actor, "attach files to")
            att = store_att.insert_row(tx.conn, {
                "task_id": task.id, "board": board, "filename": name, "stored_name": stored,
                "size": size, "content_type": guess_type(name), "sha256": digest.hexdigest(),
                "uploaded_by": (uploaded_by or "").strip()[:128] or actor.name, "created_at": now})
            from ..store import events as store_events

            store_events.append(tx, board=board, task_id=task.id, kind=ev.ATTACHED, now=now,
                                payload={"attachment_id": att.id, "filename": name, "size": size})
        return att
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def get(ctx: Ctx, attachment_id: int) -> tuple[Attachment, Path]:
    """An attachment and the path of its bytes (NotFound when either is gone)."""
    with ctx.store.read() as conn:
        att = store_att.get(conn, attachment_id)
    if att is None:
        raise NotFound(f"no attachment {attachment_id} (it was deleted, or its task was)")
    path = store_dir(ctx) / att.board / att.stored_name
    if not path.is_file():
        raise NotFound(f"attachment {attachment_id} has no file in the attachment store any more")
    return att, path


def for_task(ctx: Ctx, task_id: str) -> list[Attachment]:
    with ctx.store.read() as conn:
        return store_att.for_task(conn, task_id)


def remove(ctx: Ctx, attachment_id: int, *, actor: Actor) -> Attachment:
    from ..store import events as store_events

    now = ctx.now()
    with ctx.store.write() as tx:
        att = store_att.get(tx.conn, attachment_id)
        if att is None:
            raise NotFound(f"no attachment {attachment_id}")
        task = load(tx.conn, att.board, att.task_id)
        check_worker(tx.conn, task, actor, "remove attachments of")
        store_att.delete_row(tx.conn, att.id)
        store_events.append(tx, board=att.board, task_id=att.task_id, kind=ev.DETACHED, now=now,
                            payload={"attachment_id": att.id, "filename": att.filename})
    unlink_files(ctx, [att])
    return att


def unlink_files(ctx: Ctx, atts: Iterable[Attachment]) -> None:
    """Remove the bytes of attachments whose rows are gone (after the commit that removed them)."""
    root = store_dir(ctx)
    for att in atts:
        with contextlib.suppress(OSError):
            (root / att.board / att.stored_name).unlink()
