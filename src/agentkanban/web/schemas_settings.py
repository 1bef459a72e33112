"""Request body and response shape of the Settings view's routes (``/settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .schemas import _Body, whole

# A cap written to config.yaml (and kept in a 32-bit column's range, like every other count).
Cap = whole(ge=1, le=2**31 - 1)


class RunningItem(BaseModel):
    task_id: str
    board: str


class SettingsProfile(BaseModel):
    name: str
    command: list[str]
    env_names: list[str] = Field(description="The names of the variables the profile sets; never their values.")
    max_concurrency: int
    max_runtime: int | None = Field(description="Seconds; null when unlimited.")
    description: str
    is_default: bool
    requires_approval: bool
    running: list[RunningItem] = Field(description="Tasks running under the profile now, on any board.")


class LoopState(BaseModel):
    alive: bool = Field(description="The loop passed recently (the rule /healthz uses).")
    last_pass_at: int | None


class DispatchState(LoopState):
    max_in_progress: int | None


class HomeChannelItem(BaseModel):
    chat_id: str
    thread_id: str
    name: str


class PlatformItem(BaseModel):
    name: str
    usable: bool = Field(description="Has what the notifier needs to send (a bot token or a URL).")
    home_channels: list[HomeChannelItem]


class NotifyState(LoopState):
    platforms: list[PlatformItem]


class SettingsBoard(BaseModel):
    slug: str
    name: str
    default_workdir: str | None
    default_workspace_kind: str | None
    counts: dict[str, int]
    total: int
    is_current: bool


class ConfigState(BaseModel):
    path: str
    exists: bool
    ok: bool = Field(description="False while a changed file is refused (the last good one stays).")
    loaded_at: int | None
    error: str | None
    error_at: int | None


class SettingsOut(BaseModel):
    profiles: list[SettingsProfile]
    dispatch: DispatchState
    notify: NotifyState
    boards: list[SettingsBoard]
    config: ConfigState


class CapIn(_Body):
    max_concurrency: Cap


class SettingsIn(_Body):
    profiles: dict[str, CapIn] | None = Field(None, description="Profile name -> its new caps.")
    max_in_progress: Cap | None = Field(None, description="dispatch.max_in_progress")
