"""Task attachments (upload, download, delete) and the by-id task verbs the reference client calls:
delete, reclaim and reassign."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from ...errors import ValidationError
from ...services import attachments as att_svc
from ...services import deletion, reassigning, runs
from ...services.common import resolve_id
from .. import schemas as s
from ..deps import API_ACTOR, JSON, BoardQ, RetryingRoute, board_of, ctx_of

# Ids the databases can hold: a larger one is 422, not an overflow.
AttachmentId = Annotated[int, Path(ge=1, le=2**62)]

router = APIRouter(route_class=RetryingRoute, tags=["attachments"])
CHUNK = 256 * 1024
# Room for the multipart envelope around the file itself.
MULTIPART_SLACK = 64 * 1024


def _board_for(request: Request, task_id: str, board: str | None) -> tuple[str, str]:
    """``?board=`` when given, else the board the task lives on (the client sends none)."""
    ctx = ctx_of(request)
    slug = board_of(ctx, board) if board else deletion.find_board(ctx, task_id)
    return slug, resolve_id(ctx, slug, task_id)


@router.get("/tasks/{task_id}/attachments", response_model=s.AttachmentsOut,
            summary="The files attached to a task")
def list_attachments(request: Request, task_id: str, board: BoardQ = None) -> Any:
    slug, tid = _board_for(request, task_id, board)
    return JSON({"attachments": [a.to_dict() for a in att_svc.for_task(ctx_of(request), tid)]})


@router.post("/tasks/{task_id}/attachments", response_model=s.AttachmentOut,
             summary="Attach a file (multipart field `file`)",
             description="Refused (400) past `attachments.max_bytes` (25 MiB by default), or when the "
                         "name has a path, `..` or control characters. Nothing is overwritten.",
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
                 "schema": {"type": "object", "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"},
                                           "uploaded_by": {"type": "string"}}}}}}})
async def upload_attachment(request: Request, task_id: str, board: BoardQ = None) -> Any:
    import asyncio

    ctx = ctx_of(request)
    limit = ctx.settings.attachments.max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise ValidationError(f"the upload is larger than the {limit} byte limit "
                              "(attachments.max_bytes in config.yaml)")
    slug, tid = await asyncio.to_thread(_board_for, request, task_id, board)
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("send the file as multipart/form-data in a field named `file`")
        by = form.get("uploaded_by")
        # Not run again by the route (the form is read once): the service call is, from the
        # start of the spooled file.
        att = await asyncio.to_thread(ctx.retry.run, lambda: att_svc.add(
            ctx, slug, tid, filename=upload.filename or "", chunks=_chunks(upload),
            actor=API_ACTOR, uploaded_by=by if isinstance(by, str) else None))
    finally:
        await form.close()
    return JSON({"attachment": att.to_dict()})


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    upload.file.seek(0)
    while True:
        chunk = upload.file.read(CHUNK)
        if not chunk:
            return
        yield chunk


@router.get("/attachments/{attachment_id}", summary="Download an attachment",
            response_class=FileResponse,
            description="Always `Content-Disposition: attachment`; HTML, SVG, XML and scripts are "
                        "sent as `application/octet-stream`, never rendered.")
def download_attachment(request: Request, attachment_id: AttachmentId, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)  # an unknown ?board= is refused like everywhere else
    att, path = att_svc.get(ctx, attachment_id)
    quoted = quote(att.filename, safe="")
    return FileResponse(path, media_type=att_svc.served_type(att), headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


@router.delete("/attachments/{attachment_id}", response_model=s.OkOut, summary="Delete an attachment")
def delete_attachment(request: Request, attachment_id: AttachmentId, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    att_svc.remove(ctx, attachment_id, actor=API_ACTOR)
    return JSON({"ok": True})


@router.delete("/tasks/{task_id}", response_model=s.DeleteTaskOut, summary="Delete a task for good",
               description="Found by id on any board. Removes its comments, runs, events, links, "
                           "subscriptions and attachments; 409 while it runs (reclaim it first).")
def delete_task(request: Request, task_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    if board:
        slug = board_of(ctx, board)
        task_id = resolve_id(ctx, slug, task_id)
    return JSON(deletion.delete_task(ctx, task_id, actor=API_ACTOR))


@router.post("/tasks/{task_id}/reclaim", response_model=s.ReclaimOut,
             summary="End a running attempt and put the task back to ready")
def reclaim_task(request: Request, task_id: str, payload: s.ReclaimIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug, tid = _board_for(request, task_id, board)
    before = runs.list_runs(ctx, slug, tid)
    task, pid = runs.reclaim(ctx, slug, tid, actor=API_ACTOR, reason=payload.reason)
    return JSON({"ok": True, "task": _task(ctx, task), "worker": _stop(ctx, pid, before)})


@router.post("/tasks/{task_id}/reassign", response_model=s.ReclaimOut,
             summary="Give a task to another profile, optionally ending its running attempt first")
def reassign_task(request: Request, task_id: str, payload: s.ReassignIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug, tid = _board_for(request, task_id, board)
    before = runs.list_runs(ctx, slug, tid)
    task, pid = reassigning.reassign_one(ctx, slug, tid, payload.profile or None, actor=API_ACTOR,
                                         reclaim_first=payload.reclaim_first, reason=payload.reason)
    return JSON({"ok": True, "task": _task(ctx, task), "worker": _stop(ctx, pid, before)})


def _task(ctx: Any, task: Any) -> dict[str, Any]:
    from ...services.views import task_json

    return task_json(task, ctx.now())


def _stop(ctx: Any, pid: int | None, before: list[Any]) -> str:
    from ...dispatch.stopping import stop_worker

    return stop_worker(ctx.settings.dispatch.kill_grace_seconds, pid, before[-1] if before else None)


def stop_workers(ctx: Any, board: str, stopped: list[tuple[int, str]]) -> None:
    """Stop the workers of attempts a bulk reassignment ended."""
    for pid, tid in stopped:
        _stop(ctx, pid, runs.list_runs(ctx, board, tid))
