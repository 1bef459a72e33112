"""Usage and cost: reports, the board's spending today and what is held back, a task's usage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ...services import budgets, tasks
from ...services import usage as usage_svc
from ...services.common import resolve_id
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of
from ..schemas import DAY_PATTERN

DAY: dict[str, Any] = {"pattern": DAY_PATTERN, "format": "date"}
_WORD = "(" + "|".join(usage_svc.REPORT_BY) + ")"
BY: dict[str, Any] = {"pattern": rf"^\s*{_WORD}?\s*(,\s*{_WORD}?\s*)*$"}

router = APIRouter(route_class=RetryingRoute, tags=["usage"])


class UsageRow(BaseModel):
    model_config = {"extra": "allow"}  # plus the grouping columns named in `by`

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    tokens: int = Field(description="All four token counts together (what token budgets count).")
    cost_usd: float
    reports: int


class UsageReportOut(BaseModel):
    by: list[str]
    rows: list[UsageRow]
    total: UsageRow


class TodayOut(UsageRow):
    day: str = Field(description="The UTC day.")


class HoldsOut(BaseModel):
    board: str | None = Field(description="Why the whole board is held back, if it is.")
    profiles: dict[str, str] = Field(description="Held profiles and why (budget or provider cool-down).")


class SummaryOut(BaseModel):
    today: TodayOut
    holds: HoldsOut


class TaskUsageOut(BaseModel):
    task_id: str
    total: UsageRow
    runs: list[UsageRow] = Field(description="One row per attempt (`run` is its id).")
    max_cost_usd: float | None


@router.get("/usage", response_model=UsageReportOut, summary="Usage and cost summed by profile, board or day")
def get_usage(request: Request, board: BoardQ = None,
              by: Annotated[str | None, Query(description="profile, board, day, task, model or run; "
                                                          "comma-separated", json_schema_extra=BY)] = None,
              since: Annotated[str | None, Query(description="From this UTC day (YYYY-MM-DD)",
                                                 json_schema_extra=DAY)] = None,
              until: Annotated[str | None, Query(description="To this UTC day, inclusive",
                                                 json_schema_extra=DAY)] = None,
              all_boards: bool = False) -> Any:
    ctx = ctx_of(request)
    slug = None if all_boards else board_of(ctx, board)
    return JSON(usage_svc.report(ctx, by, board=slug, since=since, until=until))


@router.get("/usage/summary", response_model=SummaryOut,
            summary="The board's spending today and what budgets or providers hold back")
def get_summary(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return JSON({"today": usage_svc.spent_today(ctx, slug), "holds": budgets.held_scopes(ctx, slug)})


@router.get("/tasks/{task_id}/usage", response_model=TaskUsageOut, summary="A task's usage, per attempt")
def get_task_usage(request: Request, task_id: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    return JSON(usage_svc.for_task(ctx, slug, tasks.get(ctx, slug, resolve_id(ctx, slug, task_id)).id))
