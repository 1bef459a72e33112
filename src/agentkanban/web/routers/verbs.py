"""The worker's verbs for a remote ``kanban`` (``kanban --server URL show`` ...): each route parses,
makes one call to :mod:`agentkanban.services.verbs` and answers its document unchanged.

Two kinds of caller reach these routes. The operator (the API token) acts as the name in
``X-Kanban-Actor`` (default ``user``), as the CLI would locally. A worker sends its run token as
the bearer and its run id in ``X-Kanban-Run-Id``: the Guard lets such a request through to these
routes only (see ``web/guard.py``), and here it becomes the worker's own :class:`Actor`, fenced
to its attempt, on its task's board.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ...errors import Forbidden, ValidationError
from ...services import Actor, Ctx, runs
from ...services import attachments as att_svc
from ...services import verbs as verbs_svc
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of, reads_its_stream
from ..guard import RUN_SCOPE_KEY

router = APIRouter(route_class=RetryingRoute, tags=["verbs"])

ACTOR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
TaskRef = Annotated[str, Path(description="Task id or unique prefix", max_length=64)]


def principal(request: Request, board: str | None, *, worker_ok: bool = True) -> tuple[Actor, str]:
    """Who acts, and on which board. ``worker_ok``: a run token may call this route."""
    ctx = ctx_of(request)
    run = request.scope.get(RUN_SCOPE_KEY)
    if run is not None:
        if not worker_ok:
            raise Forbidden(f"a worker's run token reaches {', '.join(verbs_svc.NAMES)} only")
        actor, run_board = runs.worker_actor(ctx, run[0], run[1])
        if board and board != run_board:
            raise Forbidden(f"a worker acts on its own board ({run_board!r}) only, not {board!r}")
        return actor, run_board
    name = request.headers.get("x-kanban-actor") or "user"
    if not ACTOR_RE.match(name):
        raise ValidationError("X-Kanban-Actor must be a short name (letters, digits, _.@-)")
    return Actor(name=name), board_of(ctx, board)


class Doc(BaseModel):
    """The document ``kanban <verb> --json`` prints (see docs/cli.md)."""

    model_config = ConfigDict(extra="allow")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HeartbeatIn(_In):
    task: str = Field(max_length=64)
    note: str | None = None
    data: Any = None
    progress: Any = None


class CommentIn(_In):
    task: str = Field(max_length=64)
    body: str
    author: str | None = None


class CreateIn(_In):
    title: str
    body: str | None = None
    assignee: str | None = None
    parents: list[str] = []
    tenant: str | None = None
    priority: int = 0
    triage: bool = False
    idempotency_key: str | None = None
    max_runtime: str | None = None
    max_retries: int | None = None
    skills: list[str] = []
    workspace: str | None = None
    notify: list[str] = []
    max_cost_usd: str | None = None
    review_by: str | None = None
    review_max_rounds: int | None = None
    requires_approval: bool = False
    labels: list[str] = []
    due: str | None = None
    runs_on: list[str] = []


class CompleteIn(_In):
    tasks: list[str] = Field(min_length=1)
    summary: str | None = None
    metadata: str | None = None
    result: str | None = None
    created_cards: list[str] = []
    artifacts: list[str] = []


class SessionIn(_In):
    task: str = Field(max_length=64)
    session_id: str


class UsageIn(_In):
    task: str = Field(max_length=64)
    input_tokens: int | str | None = None
    output_tokens: int | str | None = None
    cache_read_tokens: int | str | None = None
    cache_write_tokens: int | str | None = None
    cost_usd: float | str | None = None
    model: str | None = None


class BlockIn(_In):
    task: str = Field(max_length=64)
    reason: str | None = None


class ApproveIn(_In):
    task: str = Field(max_length=64)
    summary: str | None = None


class RequestChangesIn(_In):
    task: str = Field(max_length=64)
    reason: str


@router.get("/verbs/show/{task_id}", response_model=Doc, summary="A task as `kanban show --json`")
def show(request: Request, task_id: TaskRef, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.show(ctx_of(request), slug, task_id, actor=actor))


@router.get("/verbs/context/{task_id}", response_model=Doc,
            summary="A task's worker context as `kanban context --json`")
def context(request: Request, task_id: TaskRef, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.context(ctx_of(request), slug, task_id, actor=actor))


@router.post("/verbs/heartbeat", response_model=Doc, summary="Extend a running task's lease")
def heartbeat(request: Request, payload: HeartbeatIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.heartbeat(ctx_of(request), slug, payload.task, actor=actor,
                                    note=payload.note, data=payload.data, progress=payload.progress))


@router.post("/verbs/comment", response_model=Doc, summary="Comment on a task")
def comment(request: Request, payload: CommentIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.comment(ctx_of(request), slug, payload.task, actor=actor,
                                  body=payload.body, author=payload.author))


@router.post("/verbs/create", response_model=Doc, summary="Create a task as `kanban create --json`")
def create(request: Request, payload: CreateIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.create(ctx_of(request), slug, actor=actor, **payload.model_dump()))


@router.post("/verbs/complete", response_model=Doc, summary="Complete tasks with their handoff")
def complete(request: Request, payload: CompleteIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    fields = payload.model_dump()
    return JSON(verbs_svc.complete(ctx_of(request), slug, fields.pop("tasks"), actor=actor, **fields))


@router.post("/verbs/block", response_model=Doc, summary="Block a task with a reason")
def block(request: Request, payload: BlockIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.block(ctx_of(request), slug, payload.task, actor=actor,
                                reason=payload.reason))


@router.post("/verbs/approve", response_model=Doc,
             summary="Approve work in review (a reviewer during its own review attempt)")
def approve(request: Request, payload: ApproveIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.approve(ctx_of(request), slug, payload.task, actor=actor,
                                  summary=payload.summary))


@router.post("/verbs/request_changes", response_model=Doc,
             summary="Send work in review back to its implementer with a reason")
def request_changes(request: Request, payload: RequestChangesIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.request_changes(ctx_of(request), slug, payload.task, actor=actor,
                                          reason=payload.reason))


STREAMED_PATH = "/verbs/attach"  # its body is not read by the Shield: the route spools it
UPLOAD_CHUNK = 256 * 1024


@asynccontextmanager
async def _spooled(request: Request, ctx: Ctx) -> AsyncIterator[IO[bytes]]:
    """The request's body in a temporary file, read as it arrives and refused past
    ``attachments.max_bytes`` (a declared length over it at once)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        att_svc.check_size(ctx, int(declared))
    spool = await run_in_threadpool(att_svc.spool, ctx)
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            att_svc.check_size(ctx, size)
            await run_in_threadpool(spool.write, chunk)
        yield spool
    finally:
        spool.close()


@router.post(STREAMED_PATH, response_model=Doc,
             summary="Attach a file to a task (the raw request body)",
             description="The body is the file's bytes (`application/octet-stream`), spooled to "
                         "disk as it arrives. Refused (400, nothing kept) past "
                         "`attachments.max_bytes`, or when the name holds `/`, `\\`, `..` or "
                         "control characters.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
@reads_its_stream
async def attach(request: Request, task: Annotated[str, Query(max_length=64)], filename: str,
                 board: BoardQ = None) -> Any:
    ctx = ctx_of(request)

    def target() -> tuple[Actor, str, str]:  # refused before a byte of the body is read
        actor, slug = principal(request, board)
        return actor, slug, verbs_svc.attach_target(ctx, slug, task, actor=actor, filename=filename)

    actor, slug, tid = await run_in_threadpool(ctx.retry.run, target)
    async with _spooled(request, ctx) as spool:

        def keep() -> dict[str, Any]:
            spool.seek(0)  # a second try reads the whole file again
            return verbs_svc.attach(ctx, slug, tid, actor=actor, filename=filename,
                                    chunks=iter(lambda: spool.read(UPLOAD_CHUNK), b""))

        return JSON(await run_in_threadpool(ctx.retry.run, keep))


class MoveIn(_In):
    task: str = Field(max_length=64)
    status: str


class AssignIn(_In):
    task: str = Field(max_length=64)
    profile: str


class UnblockIn(_In):
    task: str = Field(max_length=64)


class ApproveStartIn(_In):
    task: str = Field(max_length=64)


class ArchiveIn(_In):
    tasks: list[str] = Field(min_length=1)
    hard: bool = False


@router.post("/verbs/session", response_model=Doc, summary="Record the agent's session id on the attempt")
def session(request: Request, payload: SessionIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    return JSON(verbs_svc.session(ctx_of(request), slug, payload.task, actor=actor,
                                  session_id=payload.session_id))


@router.post("/verbs/usage", response_model=Doc, summary="Add to the attempt's usage (tokens, cost)")
def usage(request: Request, payload: UsageIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board)
    values = payload.model_dump(exclude={"task"})
    return JSON(verbs_svc.usage(ctx_of(request), slug, payload.task, actor=actor, **values))


@router.get("/verbs/list", response_model=Doc, summary="Tasks as `kanban list --json` (operator)")
def list_tasks(request: Request, board: BoardQ = None,
               statuses: Annotated[list[str] | None, Query()] = None,
               assignee: str | None = None, mine: bool = False, tenant: str | None = None,
               include_archived: bool = False, sort: str = "priority",
               limit: Annotated[int | None, Query(ge=1)] = None,
               label: Annotated[list[str] | None, Query()] = None, due: str | None = None,
               attention: bool = False) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.list_tasks(ctx_of(request), slug, actor=actor, mine=mine,
                                     statuses=statuses, assignee=assignee, tenant=tenant,
                                     include_archived=include_archived, sort=sort, limit=limit,
                                     label=label or [], due=due, attention=attention))


@router.post("/verbs/move", response_model=Doc, summary="Move a task to triage, todo or ready (operator)")
def move(request: Request, payload: MoveIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.move(ctx_of(request), slug, payload.task, actor=actor,
                               status=payload.status))


@router.post("/verbs/assign", response_model=Doc, summary="Assign a task to a profile (operator)")
def assign(request: Request, payload: AssignIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.assign(ctx_of(request), slug, payload.task, actor=actor,
                                 profile=payload.profile))


@router.post("/verbs/unblock", response_model=Doc, summary="Unblock a task (operator)")
def unblock(request: Request, payload: UnblockIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.unblock(ctx_of(request), slug, payload.task, actor=actor))


@router.post("/verbs/approve_start", response_model=Doc,
             summary="Let the dispatcher start a task that waits for approval (operator)")
def approve_start(request: Request, payload: ApproveStartIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.approve_start(ctx_of(request), slug, payload.task, actor=actor))


@router.post("/verbs/archive", response_model=Doc,
             summary="Archive a task, or delete archived ones (operator)")
def archive(request: Request, payload: ArchiveIn, board: BoardQ = None) -> Any:
    actor, slug = principal(request, board, worker_ok=False)
    return JSON(verbs_svc.archive(ctx_of(request), slug, payload.tasks, actor=actor,
                                  hard=payload.hard))
