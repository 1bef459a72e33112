"""One typed settings object, read from ``$KANBAN_HOME/config.yaml`` plus environment overlays.

This is the only module that reads ``os.environ``; everything else is handed a :class:`Settings`.

The settings are frozen dataclasses checked by the small validator at the bottom of this module,
not pydantic models: every ``kanban`` command reads them, and importing pydantic and building the
models cost ~0.1 s of each command's start-up.
"""

from __future__ import annotations

import operator
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

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


class Secret:
    """A token or signing secret. Its ``repr`` and ``str`` never show the value, so settings can be
    logged or printed in a traceback; ``get_secret_value()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:  # so an empty secret is falsy, as an empty string would be
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _checks(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
            min_length: int | None = None, parse: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Field metadata read by the validator: bounds, a minimum length, or a parser that replaces
    the type conversion (it gets the raw value and raises ``ValidationError``)."""
    given = {"ge": ge, "gt": gt, "le": le, "min_length": min_length, "parse": parse}
    return {k: v for k, v in given.items() if v is not None}


def _optional_duration(value: Any) -> int | None:
    return None if value is None else parse_duration(value)


def _as_str(value: Any) -> str:
    # Chat ids come from YAML as numbers as often as strings (-1001234567890).
    return "" if value is None else str(value)


def _sqlite_synchronous(value: Any) -> str:
    if isinstance(value, str) and value.upper() in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        return value.upper()
    raise ValidationError(f"must be OFF, NORMAL, FULL or EXTRA, got {value!r}")


@dataclass(frozen=True, slots=True)
class Profile:
    """A named worker command. ``{task_id}``, ``{board}``, ``{workspace}``, ``{run_id}`` are filled in."""

    command: list[str] = field(metadata=_checks(min_length=1))
    env: dict[str, str] = field(default_factory=dict)
    max_concurrency: int = field(default=1, metadata=_checks(ge=1))
    max_runtime: int | None = field(default=None, metadata=_checks(parse=_optional_duration))


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    interval_seconds: float = field(default=2.0, metadata=_checks(gt=0))
    failure_limit: int = field(default=2, metadata=_checks(ge=1))
    claim_ttl_seconds: int = field(default=900, metadata=_checks(ge=1))
    max_in_progress: int | None = field(default=8, metadata=_checks(ge=1))
    rate_limit_cooldown_seconds: int = field(default=300, metadata=_checks(ge=0))
    kill_grace_seconds: float = field(default=5.0, metadata=_checks(ge=0))
    log_rotate_bytes: int = field(default=2 * 1024 * 1024, metadata=_checks(ge=1024))
    log_backup_count: int = field(default=1, metadata=_checks(ge=0))


@dataclass(frozen=True, slots=True)
class HomeChannel:
    chat_id: str = field(metadata=_checks(parse=_as_str))
    thread_id: str = field(default="", metadata=_checks(parse=_as_str))
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
    interval_seconds: float = field(default=1.0, metadata=_checks(gt=0))
    # One HTTP request to a platform; an attempt in flight is leased for about twice this.
    timeout_seconds: float = field(default=10.0, metadata=_checks(gt=0))
    # Transient failures (429, 5xx, network) are retried until a message is this old.
    give_up_after: int = field(default=86_400, metadata=_checks(parse=parse_duration))


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    default_tenant: str = ""
    lane_by_profile: bool = True
    include_archived_by_default: bool = False
    render_markdown: bool = True


@dataclass(frozen=True, slots=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=_checks(ge=0, le=65535))
    allowed_hosts: list[str] = field(default_factory=list)
    dispatch: bool = True
    notify: bool = True


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
    sqlite_synchronous: str = field(default="NORMAL", metadata=_checks(parse=_sqlite_synchronous))
    profiles: dict[str, Profile] = field(default_factory=dict)
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    worker: WorkerEnv | None = None


PLATFORM_ENV = ("telegram", "discord", "slack")


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
    return validate(Settings, raw)


# -- the validator ------------------------------------------------------------------------------
# Type-driven: each field's resolved annotation says how to convert the raw (YAML or environment)
# value, its metadata adds bounds or a parser. Errors name the dotted path of the offending key:
# ``config: dispatch.failure_limit: must be >= 1, got 0``.

_T = TypeVar("_T")
_TRUE = {"true", "yes", "on", "1", "t", "y"}
_FALSE = {"false", "no", "off", "0", "f", "n"}


def _fail(path: str, problem: str) -> ValidationError:
    return ValidationError(f"config: {path}: {problem}")


def validate(cls: type[_T], raw: Any, path: str = "") -> _T:
    """Build the dataclass ``cls`` from a mapping of raw values, converting and checking each field."""
    if not isinstance(raw, Mapping):
        raise _fail(path or "(top level)", f"expected a mapping, got {_kind(raw)}")
    known = _fields_of(cls)
    prefix = f"{path}." if path else ""
    for key in raw:
        if key not in known:
            raise _fail(f"{prefix}{key}", _unknown(str(key), list(known)))
    values: dict[str, Any] = {}
    for name, (tp, checks, required) in known.items():
        where = f"{prefix}{name}"
        if name not in raw:
            if required:
                raise _fail(where, "required, but missing")
            continue
        parse = checks.get("parse")
        if parse is not None:
            try:
                value = parse(raw[name])
            except ValidationError as err:
                raise _fail(where, err.message) from None
        else:
            value = _convert(tp, raw[name], where)
        _check_bounds(value, raw[name], checks, where)
        values[name] = value
    return cls(**values)


_FIELDS: dict[type, dict[str, tuple[Any, dict[str, Any], bool]]] = {}


def _fields_of(cls: type) -> dict[str, tuple[Any, dict[str, Any], bool]]:
    """name -> (resolved type, checks, required), in declaration order."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = {f.name: (hints[f.name], dict(f.metadata),
                                 f.default is MISSING and f.default_factory is MISSING)
                        for f in fields(cls)}
    return _FIELDS[cls]


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        [inner] = [a for a in args if a is not type(None)]
        return _convert(inner, value, path)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _fail(path, f"expected a list, got {_kind(value)}")
        [item] = typing.get_args(tp)
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(path, f"expected a mapping, got {_kind(value)}")
        key_tp, item = typing.get_args(tp)
        return {_convert(key_tp, k, f"{path} key {k!r}"): _convert(item, v, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(tp, type) and is_dataclass(tp):
        return value if isinstance(value, tp) else validate(tp, value, path)
    return _SCALARS[tp](value, path)


def _to_str(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    raise _fail(path, f"expected a string, got {_kind(value)}; quote it in YAML")


def _to_int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise _fail(path, f"expected an integer, got {_kind(value)}")


def _to_float(value: Any, path: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _fail(path, f"expected a number, got {_kind(value)}")


def _to_bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in _TRUE | _FALSE:
        return str(value).strip().lower() in _TRUE
    raise _fail(path, f"expected true or false, got {_kind(value)}")


def _to_path(value: Any, path: str) -> Path:
    return value if isinstance(value, Path) else Path(_to_str(value, path))


def _to_secret(value: Any, path: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    # Never echo the value: it may be a mistyped secret.
    kind = "a mapping or list" if isinstance(value, (Mapping, list, tuple)) else type(value).__name__
    raise _fail(path, f"expected a string, got {kind}; quote it in YAML")


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    str: _to_str, int: _to_int, float: _to_float, bool: _to_bool, Path: _to_path, Secret: _to_secret,
}


def _check_bounds(value: Any, given: Any, checks: Mapping[str, Any], path: str) -> None:
    if value is None:
        return
    for op, sign, holds in (("ge", ">=", operator.ge), ("gt", ">", operator.gt), ("le", "<=", operator.le)):
        if op in checks and not holds(value, checks[op]):
            raise _fail(path, f"must be {sign} {checks[op]}, got {given!r}")
    if "min_length" in checks and len(value) < checks["min_length"]:
        raise _fail(path, f"needs at least {checks['min_length']} item(s), got {given!r}")


def _unknown(key: str, known: list[str]) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "expected one of " + ", ".join(known)
    return f"unknown setting; {hint}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(value)
