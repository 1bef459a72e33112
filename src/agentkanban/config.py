"""One typed settings object, read from ``$KANBAN_HOME/config.yaml`` plus environment overlays.

This is the only module that reads ``os.environ``; everything else is handed a :class:`Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from .errors import ValidationError

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> int:
    """``90``, ``"30s"``, ``"45m"``, ``"2h"``, ``"1d"`` -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = int(value)
    else:
        m = _DURATION_RE.match(str(value))
        if not m:
            raise ValidationError(f"bad duration {value!r}; use e.g. 90, 30s, 45m, 2h or 1d")
        seconds = int(float(m.group(1)) * _UNITS[m.group(2)])
    if seconds <= 0:
        raise ValidationError(f"duration must be positive, got {value!r}")
    return seconds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(_Model):
    """A named worker command. ``{task_id}``, ``{board}``, ``{workspace}``, ``{run_id}`` are filled in."""

    command: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    max_concurrency: int = Field(default=1, ge=1)
    max_runtime: int | None = None

    @field_validator("max_runtime", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> int | None:
        return None if v is None else parse_duration(v)


class DispatchSettings(_Model):
    interval_seconds: float = Field(default=2.0, gt=0)
    failure_limit: int = Field(default=2, ge=1)
    claim_ttl_seconds: int = Field(default=900, ge=1)
    max_in_progress: int | None = Field(default=8, ge=1)
    rate_limit_cooldown_seconds: int = Field(default=300, ge=0)
    kill_grace_seconds: float = Field(default=5.0, ge=0)
    log_rotate_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    log_backup_count: int = Field(default=1, ge=0)


class HomeChannel(_Model):
    chat_id: str
    thread_id: str = ""
    name: str = "Home"

    @field_validator("chat_id", "thread_id", mode="before")
    @classmethod
    def _str(cls, v: Any) -> str:
        return "" if v is None else str(v)


class PlatformSettings(_Model):
    token: SecretStr | None = None
    home_channel: HomeChannel | None = None
    api_base: str | None = None
    # Generic webhook platform: where to post and the HMAC secret to sign with.
    url: str | None = None
    secret: SecretStr | None = None


class NotifySettings(_Model):
    platforms: dict[str, PlatformSettings] = Field(default_factory=dict)
    public_url: str | None = None
    interval_seconds: float = Field(default=1.0, gt=0)
    # One HTTP request to a platform; an attempt in flight is leased for about twice this.
    timeout_seconds: float = Field(default=10.0, gt=0)
    # Transient failures (429, 5xx, network) are retried until a message is this old.
    give_up_after: int = 86_400

    @field_validator("give_up_after", mode="before")
    @classmethod
    def _give_up(cls, v: Any) -> int:
        return parse_duration(v)


class DashboardSettings(_Model):
    default_tenant: str = ""
    lane_by_profile: bool = True
    include_archived_by_default: bool = False
    render_markdown: bool = True


class ServeSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    allowed_hosts: list[str] = Field(default_factory=list)
    dispatch: bool = True
    notify: bool = True


class WorkerEnv(_Model):
    """Identity of a worker process, from the environment the dispatcher gave it."""

    task_id: str
    run_id: int | None = None
    token: SecretStr | None = None
    profile: str | None = None
    board: str | None = None


class Settings(_Model):
    home: Path
    database_url: str
    board: str | None = None  # KANBAN_BOARD
    token: SecretStr | None = None
    sqlite_synchronous: str = "NORMAL"
    profiles: dict[str, Profile] = Field(default_factory=dict)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    worker: WorkerEnv | None = None

    @field_validator("sqlite_synchronous")
    @classmethod
    def _sync(cls, v: str) -> str:
        if v.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("sqlite_synchronous must be OFF, NORMAL, FULL or EXTRA")
        return v.upper()


PLATFORM_ENV = ("telegram", "discord", "slack")


def _platform_overlay(env: Mapping[str, str], raw: dict[str, Any]) -> None:
    platforms = raw.setdefault("notify", {}).setdefault("platforms", {})
    for name in PLATFORM_ENV:
        prefix = name.upper()
        token = env.get(f"{prefix}_BOT_TOKEN")
        home = env.get(f"{prefix}_HOME_CHANNEL")
        if not token and not home:
            continue
        p = platforms.setdefault(name, {})
        if token:
            p["token"] = token
        if home:
            hc = p.setdefault("home_channel", {})
            hc["chat_id"] = home
            if env.get(f"{prefix}_HOME_CHANNEL_THREAD_ID"):
                hc["thread_id"] = env[f"{prefix}_HOME_CHANNEL_THREAD_ID"]
            if env.get(f"{prefix}_HOME_CHANNEL_NAME"):
                hc["name"] = env[f"{prefix}_HOME_CHANNEL_NAME"]


def default_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("KANBAN_HOME") or Path(env.get("HOME", "~")) / ".agentkanban").expanduser()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read config.yaml under ``$KANBAN_HOME`` and overlay the environment."""
    env = os.environ if env is None else env
    home = default_home(env)
    raw: dict[str, Any] = {}
    cfg_path = home / "config.yaml"
    if cfg_path.exists():
        import yaml

        try:
            loaded = yaml.safe_load(cfg_path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ValidationError(f"{cfg_path.name}: not valid YAML ({err})") from None
        if not isinstance(loaded, dict):
            raise ValidationError(f"{cfg_path.name}: expected a mapping at the top level")
        raw = loaded
    raw["home"] = home
    raw.setdefault("database_url", f"sqlite:///{home / 'kanban.db'}")
    if env.get("KANBAN_DATABASE_URL"):
        raw["database_url"] = env["KANBAN_DATABASE_URL"]
    if env.get("KANBAN_BOARD"):
        raw["board"] = env["KANBAN_BOARD"]
    if env.get("KANBAN_TOKEN"):
        raw["token"] = env["KANBAN_TOKEN"]
    _platform_overlay(env, raw)
    if env.get("KANBAN_TASK_ID"):
        raw["worker"] = {
            "task_id": env["KANBAN_TASK_ID"],
            "run_id": env.get("KANBAN_RUN_ID") or None,
            "token": env.get("KANBAN_RUN_TOKEN") or None,
            "profile": env.get("KANBAN_PROFILE") or None,
            "board": env.get("KANBAN_BOARD") or None,
        }
    try:
        return Settings.model_validate(raw)
    except PydanticValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"config: {where}: {first['msg']}") from None
