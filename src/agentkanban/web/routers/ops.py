"""The operator's routes: ``/metrics``, schedules, the doctor's report and repairs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from ...services import doctor, metrics, schedules
from .. import ops_schemas as o
from .. import schemas as s
from ..auth import token_matches
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of
from ..guard import request_token

router = APIRouter(route_class=RetryingRoute, tags=["ops"])


def add_metrics_route(app: FastAPI, *, public: bool) -> None:
    """``GET /metrics`` (outside ``/api``, where scrapers look); the token unless ``serve.metrics_public``."""
    app.state.latency = metrics.LatencyTracker()
    # More families (usage, costs): append ``fn(ctx) -> iterable of metric families`` here.
    app.state.metric_sources = []

    @app.get("/metrics", tags=["ops"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
                        401: {"model": s.ErrorOut, "description": "Missing or wrong token"}},
             summary="Prometheus metrics (token unless serve.metrics_public)")
    def get_metrics(request: Request) -> Any:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
        if not public and not token_matches(request.app.state.token, request_token(request.scope, headers)):
            return JSON({"detail": "missing or wrong token: send `Authorization: Bearer <token>`, "
                                   "or set serve.metrics_public"}, status_code=401,
                        headers={"www-authenticate": "Bearer"})
        body, content_type = metrics.render(ctx_of(request), request.app.state.latency,
                                            request.app.state.metric_sources)
        return Response(body, media_type=content_type)


@router.get("/schedules", response_model=o.SchedulesOut, summary="Recurring schedules of the board")
def list_schedules(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"schedules": schedules.list_schedules(ctx, board_of(ctx, board))})


@router.post("/schedules", response_model=o.ScheduleEnvelope,
             summary="Add a schedule: one task per occurrence of a cron expression")
def add_schedule(request: Request, payload: o.ScheduleIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    fields = payload.model_dump()
    made = schedules.add(ctx, board_of(ctx, board), **fields)
    return JSON({"schedule": made})


@router.post("/schedules/{schedule_id}/pause", response_model=o.ScheduleEnvelope, summary="Pause a schedule")
def pause_schedule(request: Request, schedule_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"schedule": schedules.set_paused(ctx, board_of(ctx, board), schedule_id, True)})


@router.post("/schedules/{schedule_id}/resume", response_model=o.ScheduleEnvelope,
             summary="Resume a schedule (what fell due while paused is not caught up)")
def resume_schedule(request: Request, schedule_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"schedule": schedules.set_paused(ctx, board_of(ctx, board), schedule_id, False)})


@router.delete("/schedules/{schedule_id}", response_model=s.OkOut, summary="Remove a schedule")
def remove_schedule(request: Request, schedule_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    schedules.remove(ctx, board_of(ctx, board), schedule_id)
    return JSON({"ok": True})


@router.get("/doctor", response_model=o.DoctorOut, summary="What is wrong on the board and what to do")
def get_doctor(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"findings": doctor.diagnose(ctx, board_of(ctx, board))})


@router.post("/doctor/repair", response_model=o.RepairOut,
             summary="Make the safe repairs; list what needs a person")
def post_doctor_repair(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON(doctor.repair(ctx, board_of(ctx, board)))
