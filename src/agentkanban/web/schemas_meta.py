"""Response shapes of the board-wide reads (config, home channels, stats, assignees, a worker's
log, a dispatcher pass) and of login and health."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .schemas import _Body


# -- small read models ----------------------------------------------------------------------------
class ConfigOut(BaseModel):
    default_tenant: str
    lane_by_profile: bool
    include_archived_by_default: bool
    render_markdown: bool


class HomeChannelOut(BaseModel):
    platform: str
    chat_id: str
    thread_id: str
    name: str


class HomeChannelStateOut(HomeChannelOut):
    subscribed: bool


class HomeChannelsOut(BaseModel):
    home_channels: list[HomeChannelStateOut]


class HomeSubscribeOut(BaseModel):
    ok: bool
    task_id: str
    home_channel: HomeChannelOut


class StatsOut(BaseModel):
    by_status: dict[str, int]
    by_assignee: dict[str, dict[str, int]]
    oldest_ready_age_seconds: int | None
    now: int


class AssigneeOut(BaseModel):
    name: str
    on_disk: bool = Field(description="True when a worker profile of this name is configured.")
    counts: dict[str, int]


class AssigneesOut(BaseModel):
    assignees: list[AssigneeOut]


class LogOut(BaseModel):
    task_id: str
    path: str
    exists: bool
    size_bytes: int
    content: str
    truncated: bool


class DispatchOut(BaseModel):
    """What one dispatcher pass did (or, with dry_run, would do)."""

    model_config = ConfigDict(extra="allow")

    reclaimed: int
    promoted: int
    spawned: list[dict[str, Any]] = Field(description="{id, assignee, workspace, pid}")
    skipped_unassigned: list[str]
    skipped_nonspawnable: list[dict[str, str]] = Field(description="{id, assignee}: no such profile")
    skipped_capped: list[dict[str, str]] = Field(description="{id, assignee, cap}")
    held: list[dict[str, str]] = Field(
        default_factory=list, description="{id, assignee, kind, reason}: held back by a budget or a provider")
    cost_limit_blocked: list[str] = Field(default_factory=list, description="blocked at their max_cost_usd")
    cooling_down: list[str]
    waiting_for_exit: list[str]
    crashed: list[str]
    protocol_violation: list[str]
    timed_out: list[str]
    rate_limited: list[str]
    spawn_failed: list[str]
    auto_blocked: list[str]
    terminated: list[str]
    skipped_locked: bool
    dry_run: bool
    boards: list[str]
    errors: list[str]



# -- auth and health ------------------------------------------------------------------------------
class LoginIn(_Body):
    token: str


class DiskOut(BaseModel):
    ok: bool = Field(description="False below serve.min_free_disk_bytes free: writes will fail.")
    free_bytes: int | None


class ConfigStateOut(BaseModel):
    ok: bool = Field(description="False when the file changed and was refused.")
    loaded_at: int = Field(description="When the configuration in force was loaded.")
    error: str | None = Field(description="Why the last change was refused, as at start-up.")
    error_at: int | None = None


class HealthOut(BaseModel):
    ok: bool = Field(description="True when the database answers, every loop this server runs is "
                                 "alive and the disk has room.")
    status: str = Field(description='"ok"; "failing" when the database or a loop is down; '
                                    '"degraded" when only the disk is short of room')
    database: bool
    disk: DiskOut
    dispatcher: dict[str, Any] | None = Field(
        description="Last dispatcher tick: last_tick, age_seconds, alive; null if it never ticked.")
    notifier: dict[str, Any] | None = Field(
        default=None, description="The notifier's last pass, as for the dispatcher.")
    config: ConfigStateOut | None = Field(
        default=None, description="config.yaml as this server last read it (kanban serve); a "
                                  "broken file is refused and the configuration before stays in force.")
