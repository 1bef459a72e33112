"""The board, tasks, comments, links and bulk changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...domain.models import TaskDetail
from ...errors import ValidationError
from ...services import board_page, bulk, changes, comments, graph, health, labels, links, tasks, views
from ...services.base import Ctx
from ...services.common import resolve_id
from .. import schemas as s
from .. import schemas_meta as sm
from ..deps import API_ACTOR, JSON, BoardQ, RetryingRoute, board_of, ctx_of

router = APIRouter(route_class=RetryingRoute, tags=["tasks"])

LabelQ = Annotated[list[Annotated[str, Query(json_schema_extra={"pattern": "^[^\\x00-\\x1f\\x7f]*$"})]] | None, Query(
    description="Only tasks carrying this label (repeat, or separate with commas: all must match)")]
DueQ = Annotated[str | None, Query(
    description="overdue, has (any due date), none, or a date: due at or before it")]
AttentionQ = Annotated[bool, Query(
    description="Only tasks that need a person: blocked, failing, ready but unassigned, or overdue")]


@router.get("/board", response_model=s.BoardOut, summary="The whole board, grouped by column")
def get_board(request: Request, board: BoardQ = None,
              tenant: Annotated[str | None, Query(description="Only this tenant's tasks")] = None,
              include_archived: bool = False) -> Any:
    ctx = ctx_of(request)
    return JSON(views.board_view(ctx, board_of(ctx, board), tenant=tenant or None,
                                 include_archived=include_archived))


@router.get("/board/page", response_model=s.BoardPageOut,
            summary="The board a page per column (what the dashboard reads)",
            description="Each column's first `limit` cards (done and archived newest first, the "
                        "others by priority then age) with its exact `count`; `column` + `offset` "
                        "read one column's next page. `q` (words, all must match id, title, body, "
                        "assignee, tenant or result), `tenant` and `assignee` (\"\" for "
                        "unassigned) filter in the database. Not in the seed.")
def get_board_page(
    request: Request, board: BoardQ = None,
    limit: Annotated[int, Query(ge=1, le=board_page.MAX_LIMIT)] = board_page.DEFAULT_LIMIT,
    column: Annotated[str | None, Query(description="Only this column",
                                        json_schema_extra={"pattern": s.STATUS_PATTERN})] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Skip this many cards (of `column`, else of each column)")] = 0,
    q: Annotated[str | None, Query(description="Search words")] = None,
    tenant: str | None = None,
    assignee: Annotated[str | None, Query(description='"" for unassigned')] = None,
    include_archived: bool = False,
    label: LabelQ = None, due: DueQ = None, attention: AttentionQ = False,
    sort: Annotated[str | None, Query(
        description="priority (the columns' own order) or due (soonest due first)",
        json_schema_extra={"enum": ["priority", "due"]})] = None,
) -> Any:
    ctx = ctx_of(request)
    return JSON(board_page.page(ctx, board_of(ctx, board), limit=limit, column=column,
                                offset=offset, q=q, tenant=tenant, assignee=assignee,
                                include_archived=include_archived, label=label, due=due,
                                attention=attention, sort=sort))


@router.get("/tasks", response_model=s.TaskListOut, summary="List tasks with filters")
def list_tasks(
    request: Request, board: BoardQ = None,
    status: Annotated[list[Annotated[str, Query(json_schema_extra={"pattern": s.STATUSES_PATTERN})]] | None,
                      Query(description="Repeat (or comma-separate) for several statuses")] = None,
    assignee: Annotated[str | None, Query(description='"" for unassigned')] = None,
    tenant: str | None = None, include_archived: bool = False,
    sort: Annotated[str, Query(description=", ".join(tasks.SORTS),
                               json_schema_extra={"enum": list(tasks.SORTS)})] = "priority",
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    label: LabelQ = None, due: DueQ = None, attention: AttentionQ = False,
) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    found = tasks.list_tasks(ctx, slug, statuses=_statuses(status), include_archived=include_archived,
                             assignee=assignee, tenant=tenant, sort=sort, limit=limit, label=label,
                             due=due, attention=attention)
    now = ctx.now()
    return JSON({"tasks": [views.task_json(t, now) for t in found]})


def _statuses(raw: list[str] | None) -> list[str] | None:
    from ...domain.statuses import parse_status

    if not raw:
        return None
    return [parse_status(part).value for item in raw for part in item.split(",") if part.strip()]


@router.get("/tasks/{task_id}", response_model=s.TaskDetailOut, summary="One task with its history")
def get_task(request: Request, task_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return JSON(_detail(ctx, tasks.show(ctx, slug, resolve_id(ctx, slug, task_id))))


def _detail(ctx: Ctx, d: TaskDetail) -> dict[str, Any]:
    from ...services import activity, attachments, insights, why

    now = ctx.now()
    card = insights.annotate_one(ctx, views.task_json(d.task, now), now)
    card["why"] = why.explain_one(ctx, d.task.board, card)
    activity.annotate(ctx, [card])
    return {
        "task": card,
        "attachments": [a.to_dict() for a in attachments.for_task(ctx, d.task.id)],
        "child_results": insights.child_results(ctx, d.task.id),
        "comments": [c.to_dict() for c in d.comments],
        "events": [e.to_dict() for e in d.events],
        "links": {"parents": d.parents, "children": d.children},
        "runs": [r.to_dict() for r in d.runs],
        "retry": _retry(ctx, d.task.id),
    }


def _retry(ctx: Ctx, task_id: str) -> dict[str, Any] | None:
    from ...services import backoff

    retry = backoff.waiting(ctx, [task_id]).get(task_id)
    return retry.to_dict() if retry else None


@router.get("/tasks/{task_id}/graph", response_model=s.GraphOut,
            summary="A task's dependency graph: its ancestors and descendants",
            description="Walked level by level from the task, up to `depth` levels each way and "
                        "`limit` tasks in all, nearest levels first; `truncated` says the graph "
                        "goes on. Not in the seed.")
def get_task_graph(request: Request, task_id: str, board: BoardQ = None,
                   depth: Annotated[int, Query(ge=1, le=graph.MAX_DEPTH)] = 3,
                   limit: Annotated[int, Query(ge=1, le=graph.MAX_LIMIT)] = 200) -> Any:
    ctx = ctx_of(request)
    return JSON(graph.graph(ctx, board_of(ctx, board), task_id, depth=depth, limit=limit))


@router.post("/tasks", response_model=s.CreateTaskOut, summary="Create a task")
def create_task(request: Request, payload: s.CreateTaskIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    task = tasks.create(
        ctx, slug, title=payload.title, actor=API_ACTOR, body=payload.body, assignee=payload.assignee,
        parents=payload.parents, tenant=payload.tenant, priority=payload.priority, triage=payload.triage,
        idempotency_key=payload.idempotency_key, max_runtime_seconds=payload.max_runtime_seconds,
        skills=payload.skills, workspace=payload.workspace_kind, workspace_path=payload.workspace_path,
        max_cost_usd=payload.max_cost_usd,
        goal_mode=payload.goal_mode, goal_max_turns=payload.goal_max_turns,
        scheduled_at=payload.scheduled_at, review_by=payload.review_by,
        review_max_rounds=payload.review_max_rounds, requires_approval=payload.requires_approval,
        labels=payload.labels, due_at=payload.due_at, runs_on=payload.runs_on,
    ).task
    out: dict[str, Any] = {"task": views.task_json(task, ctx.now())}
    if task.status.value == "ready" and task.assignee:
        warning = _dispatcher_warning(request, ctx)
        if warning:
            out["warning"] = warning
    return JSON(out)


# A live dispatcher is remembered this long, so a burst of creates does not re-read its record.
ALIVE_CACHE_SECONDS = 1.0


def _dispatcher_warning(request: Request, ctx: Ctx) -> str | None:
    seen = getattr(request.app.state, "dispatcher_alive_at", None)
    if seen is not None and 0 <= ctx.now() - seen < ALIVE_CACHE_SECONDS:
        return None
    status = health.dispatcher_status(ctx)
    if status is None:
        return ("no dispatcher has ever run for this database; the task will wait in 'ready' "
                "until one does (`kanban serve` runs one unless started with --no-dispatch)")
    if not status.get("alive"):
        return (f"the dispatcher last ran {int(status['age_seconds'])} s ago and looks stopped; "
                "the task will wait in 'ready' until one runs")
    request.app.state.dispatcher_alive_at = ctx.now()
    return None


@router.patch("/tasks/{task_id}", response_model=s.TaskOnlyOut, summary="Change a task",
              description="Applies assignee, then status, then priority, then title/body, in one "
                          "transaction: a refused part changes nothing. Status 'running' is "
                          "refused (400): only the dispatcher's claim starts a task.")
def update_task(request: Request, task_id: str, payload: s.UpdateTaskIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    task = changes.update(ctx, slug, resolve_id(ctx, slug, task_id), changes.Update(
        status=payload.status, assignee=payload.assignee, priority=payload.priority,
        title=payload.title, body=payload.body, result=payload.result, summary=payload.summary,
        metadata=payload.metadata, block_reason=payload.block_reason,
        created_cards=payload.created_cards, artifacts=payload.artifacts,
        max_cost_usd=payload.max_cost_usd, goal_mode=payload.goal_mode,
        goal_max_turns=payload.goal_max_turns, scheduled_at=payload.scheduled_at,
        schedule="scheduled_at" in payload.model_fields_set, labels=payload.labels,
        add_labels=payload.add_labels, remove_labels=payload.remove_labels,
        due_at=payload.due_at, set_due="due_at" in payload.model_fields_set), actor=API_ACTOR)
    return JSON({"task": views.task_json(task, ctx.now())})


@router.post("/tasks/{task_id}/comments", response_model=s.OkOut, summary="Comment on a task")
def add_comment(request: Request, task_id: str, payload: s.CommentIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    if not payload.body.strip():
        raise ValidationError("body is required")
    comments.add(ctx, slug, resolve_id(ctx, slug, task_id), payload.body, actor=API_ACTOR,
                 author=payload.author or "dashboard")
    return JSON({"ok": True})


@router.post("/links", response_model=s.OkOut, summary="Make child wait for parent")
def add_link(request: Request, payload: s.LinkIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    links.link(ctx, slug, payload.parent_id, payload.child_id)
    return JSON({"ok": True})


@router.delete("/links", response_model=s.OkOut, summary="Remove a dependency",
               description="`ok` is false when there was no such link (or no such task).")
def delete_link(request: Request, parent_id: str, child_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return JSON({"ok": links.unlink(ctx, slug, parent_id, child_id)})


@router.post("/tasks/bulk", response_model=s.BulkOut, summary="Apply one change to many tasks",
             description="Each id is independent; a failure on one does not stop the others. "
                         "`archive` wins over `status`; status 'running' is refused per id. With "
                         "`reclaim_first` and `assignee`, running tasks are reclaimed first.")
def bulk_update(request: Request, payload: s.BulkIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    ids = [i for i in payload.ids if i]
    if not ids:
        raise ValidationError("ids is required")
    change = bulk.Change(
        status=payload.status, assignee=payload.assignee, priority=payload.priority,
        archive=payload.archive, block_reason=payload.block_reason, result=payload.result,
        summary=payload.summary, metadata=payload.metadata, add_labels=payload.add_labels,
        remove_labels=payload.remove_labels, due_at=payload.due_at,
        set_due="due_at" in payload.model_fields_set)
    if payload.reclaim_first and payload.assignee is not None:
        from ...services import reassigning
        from .attachments import stop_workers

        outcomes, stopped = reassigning.apply(ctx, slug, ids, change, actor=API_ACTOR)
        stop_workers(ctx, slug, stopped)
    else:
        outcomes = bulk.apply(ctx, slug, ids, change, actor=API_ACTOR)
    return JSON({"results": [_result(o) for o in outcomes]})


def _result(o: bulk.Outcome) -> dict[str, Any]:
    return {"id": o.id, "ok": True} if o.ok else {"id": o.id, "ok": False, "error": o.error}


@router.get("/labels", response_model=s.LabelsOut, summary="The board's labels with their colours",
            description="Every label in use on the board (or with a chosen colour), with its "
                        "colour and how many open tasks carry it. Not in the seed.")
def get_labels(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"labels": labels.board_labels(ctx, board_of(ctx, board))})


@router.put("/labels/{name}", response_model=s.LabelOut, summary="Choose a label's colour",
            description="`#rrggbb`, or `auto` to go back to the colour derived from the name. "
                        "Not in the seed.")
def put_label(request: Request, name: str, payload: s.LabelColorIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON(labels.set_color(ctx, board_of(ctx, board), name, payload.color))


@router.get("/tasks/{task_id}/log", response_model=sm.LogOut, summary="The worker's output log")
def get_task_log(request: Request, task_id: str, board: BoardQ = None,
                 tail: Annotated[int | None, Query(ge=1, le=2_000_000,
                                                   description="At most this many bytes")] = None) -> Any:
    from ...dispatch.logs import read_log  # the dispatcher owns the log files

    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    task = tasks.get(ctx, slug, resolve_id(ctx, slug, task_id))
    return JSON(read_log(ctx, slug, task.id, tail_bytes=tail))
