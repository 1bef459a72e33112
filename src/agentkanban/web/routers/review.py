"""Review verbs: approve, request changes, approve a task's start (docs/review.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from ...services import review, views
from ...services.common import resolve_id
from ..deps import API_ACTOR, JSON, BoardQ, RetryingRoute, board_of, ctx_of
from ..schemas import TaskOut, _Body

router = APIRouter(route_class=RetryingRoute, tags=["review"])


class ApproveIn(_Body):
    summary: str | None = Field(None, max_length=20_000, description="What the review found.")


class ChangesIn(_Body):
    reason: str = Field(min_length=1, max_length=20_000, description="What must change.")


def _out(request: Request, task: Any) -> Any:
    return JSON(views.task_json(task, ctx_of(request).now()))


@router.post("/tasks/{task_id}/approve", response_model=TaskOut, summary="Approve work in review",
             description="The task is done; children get the implementer's handoff with this review.")
def approve(request: Request, task_id: str, payload: ApproveIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return _out(request, review.approve(ctx, slug, resolve_id(ctx, slug, task_id), actor=API_ACTOR, summary=payload.summary))


@router.post("/tasks/{task_id}/request-changes", response_model=TaskOut,
             summary="Send work in review back to its implementer",
             description="Back to ready with the reason in the next attempt's context; blocked for a "
                         "person once the task's review rounds are spent.")
def request_changes(request: Request, task_id: str, payload: ChangesIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return _out(request, review.request_changes(ctx, slug, resolve_id(ctx, slug, task_id), actor=API_ACTOR,
                                                reason=payload.reason))


@router.post("/tasks/{task_id}/approve-start", response_model=TaskOut,
             summary="Let the dispatcher start a task that waits for approval")
def approve_start(request: Request, task_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return _out(request, review.approve_start(ctx, slug, resolve_id(ctx, slug, task_id), actor=API_ACTOR))
