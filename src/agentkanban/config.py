"""One typed settings object, read from ``$KANBAN_HOME/config.yaml`` plus environment overlays.

This is the only module that reads ``os.environ``; everything else is handed a :class:`Settings`.

The settings are frozen dataclasses checked by the small validator in :mod:`.typedconfig`,
not pydantic models: every ``kanban`` command reads them, and importing pydantic and building the
models cost ~0.1 s of each command's start-up.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .costsconfig import Budgets, Price, Provider, check_providers, usage_format
from .errors import ValidationError
from .reviewconfig import Review, check_reviews
from .typedconfig import Secret, checks, validate

__all__ = ["Secret", "Settings", "load_settings", "parse_duration", "validate"]

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


MAX_DURATION = 1_000_000_000  # about 31 years; also keeps the value inside a 64-bit column


def parse_duration(value: Any) -> int:
    """``90``, ``"30s"``, ``"45m"``, ``"2h"``, ``"1d"`` -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not -MAX_DURATION <= value <= MAX_DURATION:  # also NaN and infinity
            raise ValidationError(f"duration {value!r} is too long (at most {MAX_DURATION} seconds)")
        seconds = int(value)
    else:
        m = _DURATION_RE.match(str(value))
        if not m:
            raise ValidationError(f"bad duration {value!r}; use e.g. 90, 30s, 45m, 2h or 1d")
        amount = float(m.group(1)) * _UNITS[m.group(2)]
        if amount > MAX_DURATION:
            raise ValidationError(f"duration {value!r} is too long (at most {MAX_DURATION} seconds)")
        seconds = int(amount)
    if seconds <= 0:
        raise ValidationError(f"duration must be positive, got {value!r}")
    return seconds


def _optional_duration(value: Any) -> int | None:
    return None if value is None else parse_duration(value)


def _as_str(value: Any) -> str:
    # Chat ids come from YAML as numbers as often as strings (-1001234567890).
    return "" if value is None else str(value)


def _sqlite_synchronous(value: Any) -> str:
    if isinstance(value, str) and value.upper() in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        return value.upper()
    raise ValidationError(f"must be OFF, NORMAL, FULL or EXTRA, got {value!r}")


PLATFORM_ENV = ("telegram", "discord", "slack")
# The server's own secrets: never in a worker's environment, even when a profile names them (a
# worker proves itself with its attempt's run token; see docs/security.md).
SECRET_ENV = ("KANBAN_TOKEN", *(f"{p.upper()}_BOT_TOKEN" for p in PLATFORM_ENV))
# Set by the dispatcher for each worker; never taken from the dispatcher's own environment.
WORKER_ENV = ("KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN", "KANBAN_PROFILE",
              "KANBAN_WORKSPACE", "KANBAN_BOARD")
_ENV_PATTERN_RE = re.compile(r"[A-Za-z_*?][A-Za-z0-9_*?]*")


def env_refusal(pattern: str) -> str | None:
    """Why the environment variable name (or glob) ``pattern`` may not reach a worker, or None."""
    for name in (*SECRET_ENV, *WORKER_ENV):
        if fnmatch.fnmatchcase(name, pattern):
            what = name if pattern == name else f"{pattern!r} would pass {name}, which"
            if name in SECRET_ENV:
                return (f"{what} never reaches a worker (the API token and the notifier's bot tokens "
                        "are never passed, even when named)")
            return f"{what} is set by the dispatcher for each worker"
    return None


def env_patterns(value: Any) -> list[str]:
    """``env_passthrough``: environment variable names, ``*`` and ``?`` as wildcards (``AWS_*``)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError("expected a list of environment variable names, e.g. [ANTHROPIC_API_KEY, AWS_*]")
    for item in value:
        if not isinstance(item, str) or not _ENV_PATTERN_RE.fullmatch(item):
            raise ValidationError(f"{item!r} is not an environment variable name (letters, digits and _, "
                                  "with * and ? as wildcards)")
        refusal = env_refusal(item)
        if refusal:
            raise ValidationError(refusal)
    return list(value)


def unix_user(value: Any) -> str | None:
    """``run_as``: a user of this machine's user database."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"expected a user name, got {value!r}")
    import pwd

    try:
        pwd.getpwnam(value)
    except KeyError:
        raise ValidationError(f"no user {value!r} on this machine (run_as names the unix user "
                              "this profile's workers run as)") from None
    return value


RUNNER_LABEL_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def runner_labels(value: Any) -> list[str]:
    """Labels a runner announces and a task or profile requires (``runs_on``): short lower-case
    names such as ``macos``, ``gpu``, ``x86_64``. Sorted, without repeats."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValidationError("expected a list of labels, e.g. [macos, xcode]")
    out = set()
    for item in value:
        label = str(item).strip().lower() if isinstance(item, (str, int)) else None
        if not label or not RUNNER_LABEL_RE.fullmatch(label):
            raise ValidationError(f"{item!r} is not a runner label (lower-case letters, digits and "
                                  "._-, at most 64 characters)")
        out.add(label)
    if len(out) > 32:
        raise ValidationError("at most 32 runner labels")
    return sorted(out)


@dataclass(frozen=True, slots=True)
class Profile:
    """A named worker command. ``{task_id}``, ``{board}``, ``{workspace}``, ``{run_id}`` are filled in
    (and ``{session_id}`` in ``resume_command``)."""

    command: list[str] = field(metadata=checks(min_length=1))
    env: dict[str, str] = field(default_factory=dict)
    # Variables of the dispatcher's environment this profile's workers also get (docs/security.md).
    env_passthrough: list[str] = field(default_factory=list, metadata=checks(parse=env_patterns))
    run_as: str | None = field(default=None, metadata=checks(parse=unix_user))  # a unix user
    max_concurrency: int = field(default=1, metadata=checks(ge=1))
    max_runtime: int | None = field(default=None, metadata=checks(parse=_optional_duration))
    # Used instead of ``command`` when an earlier attempt of the task under this profile left a
    # session id (see docs/costs.md).
    resume_command: list[str] | None = field(default=None, metadata=checks(min_length=1))
    usage_from: str | None = field(default=None, metadata=checks(parse=usage_format))
    model: str | None = None  # priced with ``prices`` when the agent's output names no model
    # Checks of the work before it counts as done (docs/review.md).
    review: Review | None = None
    acceptance: list[str] = field(default_factory=list)  # shell commands run in the workspace
    acceptance_timeout: int = field(default=600, metadata=checks(parse=parse_duration))
    require_summary: bool = False
    requires_approval: bool = False  # a person approves each task before it is started
    # Only runners carrying all these labels run this profile's tasks; the local dispatcher
    # leaves them to the runners (docs/runners.md).
    runs_on: list[str] = field(default_factory=list, metadata=checks(parse=runner_labels))


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a task waits before its next attempt after one kind of failure: ``base_seconds``
    after the first, doubling with each consecutive failure up to ``max_seconds``, shortened by a
    random part of up to ``jitter`` (0-1) so tasks that failed together do not retry together."""

    base_seconds: float = field(default=30.0, metadata=checks(ge=0))
    max_seconds: float = field(default=1800.0, metadata=checks(ge=0))
    jitter: float = field(default=0.5, metadata=checks(ge=0, le=1))


@dataclass(frozen=True, slots=True)
class RetryBackoff:
    """Per failure class. ``infrastructure`` is a fault on this machine's side (out of file
    descriptors or processes, the database unreachable): retried, never counted against the task."""

    spawn_failed: Backoff = field(default_factory=lambda: Backoff(10.0, 600.0))
    crashed: Backoff = field(default_factory=lambda: Backoff(30.0, 1800.0))
    timed_out: Backoff = field(default_factory=lambda: Backoff(60.0, 3600.0))
    lost_runner: Backoff = field(default_factory=lambda: Backoff(15.0, 900.0))
    infrastructure: Backoff = field(default_factory=lambda: Backoff(5.0, 120.0))


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    interval_seconds: float = field(default=2.0, metadata=checks(gt=0))
    failure_limit: int = field(default=2, metadata=checks(ge=1))
    claim_ttl_seconds: int = field(default=900, metadata=checks(ge=1))
    max_in_progress: int | None = field(default=8, metadata=checks(ge=1))
    rate_limit_cooldown_seconds: int = field(default=300, metadata=checks(ge=0))
    kill_grace_seconds: float = field(default=5.0, metadata=checks(ge=0))
    log_rotate_bytes: int = field(default=2 * 1024 * 1024, metadata=checks(ge=1024))
    log_backup_count: int = field(default=1, metadata=checks(ge=0))
    # Variables of the dispatcher's environment every worker gets, besides the process basics.
    env_passthrough: list[str] = field(default_factory=list, metadata=checks(parse=env_patterns))
    retry_backoff: RetryBackoff = field(default_factory=RetryBackoff)


@dataclass(frozen=True, slots=True)
class HomeChannel:
    chat_id: str = field(metadata=checks(parse=_as_str))
    thread_id: str = field(default="", metadata=checks(parse=_as_str))
    name: str = "Home"


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    token: Secret | None = None
    home_channel: HomeChannel | None = None
    api_base: str | None = None
    # Generic webhook platform: where to post and the HMAC secret to sign with.
    url: str | None = None
    secret: Secret | None = None


@dataclass(frozen=True, slots=True)
class NotifySettings:
    platforms: dict[str, PlatformSettings] = field(default_factory=dict)
    public_url: str | None = None
    interval_seconds: float = field(default=1.0, metadata=checks(gt=0))
    # One HTTP request to a platform; an attempt in flight is leased for about twice this.
    timeout_seconds: float = field(default=10.0, metadata=checks(gt=0))
    # Transient failures (429, 5xx, network) are retried until a message is this old.
    give_up_after: int = field(default=86_400, metadata=checks(parse=parse_duration))


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    default_tenant: str = ""
    lane_by_profile: bool = True
    include_archived_by_default: bool = False
    render_markdown: bool = True


@dataclass(frozen=True, slots=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=checks(ge=0, le=65535))
    allowed_hosts: list[str] = field(default_factory=list)
    # Origins (scheme://host:port) besides the server's own that may make state-changing
    # requests and open the event stream with the user's cookie.
    allowed_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = field(default=16 * 1024 * 1024, metadata=checks(ge=1024))
    # Board and task-list reads answered at once; more wait their turn (health and writes do not).
    max_heavy_reads: int = field(default=2, metadata=checks(ge=1))
    # A client must finish sending its request headers within this time, or is disconnected.
    header_timeout_seconds: float = field(default=10.0, metadata=checks(gt=0))
    # Refused tokens from one address within a minute before it is locked out for the minute.
    failed_logins_per_minute: int = field(default=20, metadata=checks(ge=1))
    # Below this much free disk /healthz answers 503 "degraded": writes are about to fail.
    min_free_disk_bytes: int = field(default=64 * 1024 * 1024, metadata=checks(ge=0))
    dispatch: bool = True
    notify: bool = True
    metrics_public: bool = False  # serve /metrics without the token (for a scraper on a trusted network)


@dataclass(frozen=True, slots=True)
class AttachmentSettings:
    """Where attached files are kept (default ``$KANBAN_HOME/attachments``) and how big one may be."""

    dir: str | None = None
    max_bytes: int = field(default=25 * 1024 * 1024, metadata=checks(ge=1))


@dataclass(frozen=True, slots=True)
class WorkerEnv:
    """Identity of a worker process, from the environment the dispatcher gave it."""

    task_id: str
    run_id: int | None = None
    token: Secret | None = None
    profile: str | None = None
    board: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    board: str | None = None  # KANBAN_BOARD
    token: Secret | None = None
    sqlite_synchronous: str = field(default="NORMAL", metadata=checks(parse=_sqlite_synchronous))
    # How long a transient database error (a restart, a dropped connection, a serialization
    # failure) is retried with backoff, on every surface: a `kanban` command (then exit status
    # 69), an API request (then 503), an MCP tool, a dispatcher write.
    database_retry_seconds: float = field(default=60.0, metadata=checks(ge=0))
    profiles: dict[str, Profile] = field(default_factory=dict)
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    budgets: Budgets = field(default_factory=Budgets)
    providers: dict[str, Provider] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    attachments: AttachmentSettings = field(default_factory=AttachmentSettings)
    worker: WorkerEnv | None = None


def secret_values(settings: Settings) -> list[str]:
    """The configured secrets' values (API token, platform tokens, webhook secrets): a variable
    holding one never reaches a worker, whatever its name."""
    found = [settings.token, *(s for p in settings.notify.platforms.values() for s in (p.token, p.secret))]
    return [s.get_secret_value() for s in found if s is not None and s.get_secret_value()]


def check_profile_env(profiles: Mapping[str, Profile]) -> None:
    """At load: a profile's own ``env`` never sets the server's secrets or a worker's identity."""
    for name, p in profiles.items():
        for key in p.env:
            refusal = env_refusal(key)
            if refusal:
                raise ValidationError(f"config: profiles.{name}.env.{key}: {refusal}")


def _section(parent: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """``parent[key]``, created empty if missing; None if either is not a mapping (the validator
    then reports it with its path)."""
    if parent is None:
        return None
    if parent.get(key) is None:
        parent[key] = {}
    child = parent[key]
    return child if isinstance(child, dict) else None


def _platform_overlay(env: Mapping[str, str], raw: dict[str, Any]) -> None:
    for name in PLATFORM_ENV:
        prefix = name.upper()
        token = env.get(f"{prefix}_BOT_TOKEN")
        home = env.get(f"{prefix}_HOME_CHANNEL")
        if not token and not home:
            continue
        p = _section(_section(_section(raw, "notify"), "platforms"), name)
        if p is not None and token:
            p["token"] = token
        hc = _section(p, "home_channel") if home else None
        if hc is not None:
            hc["chat_id"] = home
            if env.get(f"{prefix}_HOME_CHANNEL_THREAD_ID"):
                hc["thread_id"] = env[f"{prefix}_HOME_CHANNEL_THREAD_ID"]
            if env.get(f"{prefix}_HOME_CHANNEL_NAME"):
                hc["name"] = env[f"{prefix}_HOME_CHANNEL_NAME"]


def default_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("KANBAN_HOME") or Path(env.get("HOME", "~")) / ".agentkanban").expanduser()


def yaml_error(path: Path, err: Exception) -> ValidationError:
    """A YAML syntax error as one line naming the file, the line and the column, and the problem,
    never quoting the file (it may hold a token, and ``/healthz`` shows a refused file's error)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = ": ".join(x for x in (getattr(err, "context", None), getattr(err, "problem", None)) if x)
    detail = " ".join((problem or "cannot parse").split())
    return ValidationError(f"{path}: not valid YAML{where}: {detail}; fix the file and run again")


def _read_config(path: Path, env: Mapping[str, str]) -> str | None:
    """config.yaml's text; None when there is none, or for a worker started with ``run_as``, which
    may not read its owner's file (docs/security.md)."""
    try:
        return path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        if env.get("KANBAN_TASK_ID"):
            return None
        raise ValidationError(f"{path}: cannot read it (permission denied)") from None


def load_settings(env: Mapping[str, str] | None = None, *, text: str | None = None) -> Settings:
    """Read config.yaml under ``$KANBAN_HOME`` and overlay the environment. With ``text``, that is
    read as the file's content instead (a change is checked exactly as it would load, before it
    is written)."""
    env = os.environ if env is None else env
    home = default_home(env)
    raw: dict[str, Any] = {}
    cfg_path = home / "config.yaml"
    if text is None:
        text = _read_config(cfg_path, env)
    found = text is not None
    if text is not None:
        import yaml

        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise yaml_error(cfg_path, err) from None
        if not isinstance(loaded, dict):
            raise ValidationError(f"{cfg_path}: expected a mapping at the top level")
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
        settings = validate(Settings, raw)
        check_providers(settings.providers)
        check_reviews(settings.profiles)
        check_profile_env(settings.profiles)
    except ValidationError as err:
        if not found:
            raise
        raise ValidationError(f"{err.message} (in {cfg_path})") from None
    return settings
