"""The runner's own configuration: ``$KANBAN_HOME/runner.yaml`` (or ``--config``).

It holds the profiles this machine can run, in config.yaml's ``profiles:`` format (the same
:class:`~agentkanban.config.Profile` parser), and where the runner works. Without a runner.yaml,
the profiles of ``$KANBAN_HOME/config.yaml`` are used, so a machine already set up as a board can
also run as a runner with no second file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Profile, default_home, yaml_error
from ..errors import ValidationError
from ..typedconfig import checks, validate


@dataclass(frozen=True, slots=True)
class RunnerFile:
    """The keys of runner.yaml. Command-line options and the environment override them."""

    server: str | None = None  # the board server's URL ($KANBAN_URL, --server)
    token_file: str | None = None  # a file holding the runner token (--token-file)
    name: str | None = None  # expected runner name: a token of another runner is refused
    labels: list[str] = field(default_factory=list)
    capacity: int = field(default=1, metadata=checks(ge=1, le=256))
    workspace_root: str | None = None  # default $KANBAN_HOME/runner-workspaces
    log_dir: str | None = None  # worker output kept here while shipped; default $KANBAN_HOME/runner-logs
    kill_grace_seconds: float = field(default=10.0, metadata=checks(ge=0))
    # How long one claim waits on the server for work (the long poll); at most 60.
    claim_wait_seconds: float | None = field(default=None, metadata=checks(gt=0, le=60))
    profiles: dict[str, Profile] = field(default_factory=dict)


@dataclass(frozen=True)
class RunnerConfig:
    """Everything the loop needs, resolved."""

    server: str
    token: str = field(repr=False)
    home: Path
    workspace_root: Path
    log_dir: Path
    profiles: dict[str, Profile]
    name: str | None = None
    labels: list[str] = field(default_factory=list)
    capacity: int = 1
    kill_grace_seconds: float = 10.0
    claim_wait_seconds: float | None = None
    source: Path | None = None  # the file the profiles came from


def read_file(path: Path, *, profiles_only: bool = False) -> RunnerFile:
    """Parse a runner.yaml (or, with ``profiles_only``, the ``profiles:`` of a config.yaml)."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise yaml_error(path, err) from None
    except OSError as err:
        raise ValidationError(f"{path}: cannot read it: {err.strerror}") from None
    if not isinstance(raw, dict):
        raise ValidationError(f"{path}: expected a mapping at the top level")
    if profiles_only:
        raw = {"profiles": raw.get("profiles") or {}}
    try:
        return validate(RunnerFile, raw)
    except ValidationError as err:
        raise ValidationError(f"{err.message} (in {path})") from None


def _absolute(value: str, what: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ValidationError(f"{what} must be an absolute path, got {value!r}")
    return path


def load(env: Mapping[str, str], *, config: str | None = None, server: str | None = None,
         token: str | None = None, token_file: str | None = None, name: str | None = None,
         labels: tuple[str, ...] = (), capacity: int | None = None) -> RunnerConfig:
    """Options first, then the environment (``KANBAN_URL``, ``KANBAN_RUNNER_TOKEN``), then the file."""
    home = default_home(env)
    source: Path | None
    if config:
        source = Path(config).expanduser()
        if not source.exists():
            raise ValidationError(f"runner config {source} does not exist")
        file = read_file(source)
    elif (home / "runner.yaml").exists():
        source = home / "runner.yaml"
        file = read_file(source)
    elif (home / "config.yaml").exists():
        source = home / "config.yaml"
        file = read_file(source, profiles_only=True)
    else:
        source, file = None, RunnerFile()
    url = (server or env.get("KANBAN_URL") or file.server or "").strip().rstrip("/")
    if not url:
        raise ValidationError("no server: pass --server URL, set KANBAN_URL, or put server: in runner.yaml")
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"server must be an http:// or https:// URL, got {url!r}")
    secret = token or env.get("KANBAN_RUNNER_TOKEN") or ""
    path = token_file or (None if secret else file.token_file)
    if path:
        try:
            secret = Path(path).expanduser().read_text().strip()
        except OSError as err:
            raise ValidationError(f"cannot read the token file {path}: {err.strerror}") from None
    secret = secret.strip()
    if not secret:
        raise ValidationError("no runner token: pass --token or --token-file, or set KANBAN_RUNNER_TOKEN "
                              "(make one on the server with `kanban runners token create NAME`)")
    return RunnerConfig(
        server=url, token=secret, home=home,
        workspace_root=_absolute(file.workspace_root, "workspace_root") if file.workspace_root
        else home / "runner-workspaces",
        log_dir=_absolute(file.log_dir, "log_dir") if file.log_dir else home / "runner-logs",
        profiles=dict(file.profiles), name=name or file.name,
        labels=list(dict.fromkeys(labels or file.labels)),
        capacity=capacity if capacity is not None else file.capacity,
        kill_grace_seconds=file.kill_grace_seconds, claim_wait_seconds=file.claim_wait_seconds,
        source=source)


def describe(profiles: Mapping[str, Any]) -> str:
    return ", ".join(sorted(profiles)) or "none"
