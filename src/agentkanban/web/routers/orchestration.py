"""Orchestration settings, the profile roster and the orchestrator's jobs (specify, decompose,
describe-auto), in the shapes the reference dashboard reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...services import orchestrate, orchestration
from ...services.common import resolve_id
from .. import schemas_orchestration as so
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of
from .attachments import _board_for

router = APIRouter(route_class=RetryingRoute, tags=["orchestration"])
WaitQ = Annotated[float, Query(ge=0, le=3600, description="Seconds to wait for the orchestrator")]


@router.get("/orchestration", response_model=so.OrchestrationOut, summary="Orchestration settings")
def get_orchestration(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON(orchestration.get_settings(ctx))


@router.put("/orchestration", response_model=so.OrchestrationOut, summary="Change orchestration settings",
            description="Profiles must be configured; \"\" clears one.")
def put_orchestration(request: Request, payload: so.OrchestrationIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON(orchestration.update_settings(ctx, payload.model_dump(exclude_none=True)))


@router.get("/profiles", response_model=so.ProfilesOut, summary="The configured worker profiles")
def get_profiles(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"profiles": orchestration.roster(ctx)})


@router.patch("/profiles/{name}", response_model=so.ProfileOut, summary="Set a profile's description",
              description="\"\" clears it. Stored in the database; the orchestrator reads it to route work.")
def patch_profile(request: Request, name: str, payload: so.DescribeIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"ok": True, "profile": orchestration.describe(ctx, name, payload.description)})


@router.post("/profiles/{name}/describe-auto", response_model=so.OrchestrateOut,
             summary="Ask the orchestrator profile to describe a profile")
def describe_auto(request: Request, name: str, payload: so.DescribeAutoIn, board: BoardQ = None,
                  wait: WaitQ = orchestrate.DEFAULT_WAIT) -> Any:
    ctx = ctx_of(request)
    return JSON(orchestrate.describe_auto(ctx, board_of(ctx, board), name, overwrite=payload.overwrite,
                                          wait=wait))


@router.post("/tasks/{task_id}/specify", response_model=so.OrchestrateOut,
             summary="Have the orchestrator turn a triage task into a spec (then todo)",
             description="`ok: false` with a `reason` (not an HTTP error) when no orchestrator "
                         "profile is set, the task is not in triage, or the job is still running.")
def specify(request: Request, task_id: str, payload: so.AuthorIn, board: BoardQ = None,
            wait: WaitQ = orchestrate.DEFAULT_WAIT) -> Any:
    ctx = ctx_of(request)
    slug, tid = _board_for(request, task_id, board)
    return JSON(orchestrate.specify(ctx, slug, resolve_id(ctx, slug, tid), wait=wait))


@router.post("/tasks/{task_id}/decompose", response_model=so.OrchestrateOut,
             summary="Have the orchestrator split a triage task into child tasks",
             description="The triage task then waits for its children and moves to todo.")
def decompose(request: Request, task_id: str, payload: so.AuthorIn, board: BoardQ = None,
              wait: WaitQ = orchestrate.DEFAULT_WAIT) -> Any:
    ctx = ctx_of(request)
    slug, tid = _board_for(request, task_id, board)
    return JSON(orchestrate.decompose(ctx, slug, tid, wait=wait))
