"""Shapes of the operator's routes: schedules, doctor, database check."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .schemas import Flag, Priority, Seconds, Title, _Body


class ScheduleIn(_Body):
    title: Title
    cron: str = Field(description='Five-field cron expression, e.g. "0 9 * * MON-FRI".',
                      json_schema_extra={"format": "cron"})
    tz: str = Field("UTC", description="IANA time zone the expression is read in.",
                    json_schema_extra={"format": "iana-time-zone"})
    catch_up: Literal["latest", "all", "none"] = Field(
        "latest", description="After downtime: create the latest missed occurrence, all, or none.")
    skip_if_open: Flag = Field(False, description="Skip an occurrence while the previous task is open.")
    body: str | None = None
    assignee: str | None = None
    priority: Priority = 0
    tenant: str | None = None
    skills: list[str] | None = None
    max_runtime_seconds: Seconds | None = None
    max_retries: Annotated[int, Field(ge=1, le=1000)] | None = None
    triage: Flag = False


class ScheduleOut(BaseModel):
    id: str
    board: str
    title: str
    cron: str
    tz: str
    catch_up: str
    skip_if_open: bool
    paused: bool
    next_at: float | None
    last_occurrence: float | None
    last_task_id: str | None
    skipped: int
    created_at: float
    template: dict[str, Any]


class ScheduleEnvelope(BaseModel):
    schedule: ScheduleOut


class SchedulesOut(BaseModel):
    schedules: list[ScheduleOut]


class Finding(BaseModel):
    code: str = Field(description="dispatcher_down, stuck_running, ready_unassigned, ready_unknown_profile, "
                                  "repeated_failure, blocked_unattended, delivery_failing, "
                                  "orphan_workspace or integrity")
    board: str | None
    task_id: str | None
    message: str
    fix: str = Field(description="What to do about it.")
    repairable: bool = Field(description="`kanban doctor --repair` fixes it safely.")


class DoctorOut(BaseModel):
    findings: list[Finding]


class RepairOut(BaseModel):
    repaired: list[Finding]
    needs_person: list[Finding]
