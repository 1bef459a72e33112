"""The dashboard's Settings view: what is configured and what runs, in one answer, and the caps
changed from there.

:func:`overview` gathers the profiles (command, caps, description, the tasks running under each
now), the dispatcher's cap and liveness, the notification platforms and their home channels, the
boards with their defaults, and the state of config.yaml. It never shows a secret: a profile's
``env`` is given by its variable names only, a platform by its name, usability and home channels.

:func:`update_caps` writes a profile's ``max_concurrency`` and ``dispatch.max_in_progress`` back
to config.yaml, keeping the file's comments, order and layout: a value already written is changed
where it stands (only its characters change); a key not yet written is added by a round-trip
through ruamel.yaml. The new text is validated by the loader the server starts with before it is
written (a refused value leaves the file alone), written atomically, and put in force at once.
The file rather than the database: it stays the one source of truth for the configuration, and
the server already watches it. Descriptions (``PATCH /profiles/{name}``) and board defaults
(``PATCH /boards/{slug}``) live in the database and keep their own routes.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..config import load_settings, yaml_error
from ..errors import NotFound, ValidationError
from ..store import runs as store_runs
from . import boards, health, orchestration, subs
from .base import Ctx
from .configwatch import ConfigWatch

_write_lock = threading.Lock()
# A plain scalar as written in block or flow style: up to a space, a comment, a comma or a bracket.
_SCALAR = re.compile(r"[^\s#,}\]]+")
_NULLS = ("null", "Null", "NULL", "~")


def config_path(ctx: Ctx) -> Path:
    return ctx.settings.home / "config.yaml"


def _running(ctx: Ctx) -> dict[str, list[dict[str, str]]]:
    with ctx.store.read() as conn:
        found = store_runs.open_all(conn)
    out: dict[str, list[dict[str, str]]] = {}
    for profile, board, task_id in found:
        out.setdefault(profile, []).append({"task_id": task_id, "board": board})
    return out


def _profiles(ctx: Ctx) -> list[dict[str, Any]]:
    running = _running(ctx)
    out = []
    for entry in orchestration.roster(ctx):
        p = ctx.settings.profiles[entry["name"]]
        out.append({"name": entry["name"], "command": list(p.command),
                    "env_names": sorted(p.env),  # never the values: they hold keys and tokens
                    "max_concurrency": p.max_concurrency, "max_runtime": p.max_runtime,
                    "description": entry["description"], "is_default": entry["is_default"],
                    "requires_approval": p.requires_approval,
                    "running": running.get(entry["name"], [])})
    return out


def _loop(status: dict[str, Any] | None) -> dict[str, Any]:
    """The rule ``/healthz``, ``kanban doctor`` and the "no dispatcher running" cause share."""
    return {"alive": bool(status and status["alive"]),
            "last_pass_at": int(status["last_tick"]) if status else None}


def _notify(ctx: Ctx) -> dict[str, Any]:
    homes = subs.home_channels(ctx)
    platforms = [{"name": name, "usable": subs.platform_usable(name, p),
                  "home_channels": [{k: h[k] for k in ("chat_id", "thread_id", "name")}
                                    for h in homes if h["platform"] == name]}
                 for name, p in sorted(ctx.settings.notify.platforms.items())]
    return {**_loop(health.notifier_status(ctx)), "platforms": platforms}


def _boards(ctx: Ctx) -> list[dict[str, Any]]:
    keys = ("slug", "name", "default_workdir", "default_workspace_kind", "counts", "total", "is_current")
    return [{k: b.get(k) for k in keys} for b in boards.list_boards(ctx)]


def _config(ctx: Ctx, watch: ConfigWatch | None) -> dict[str, Any]:
    path = config_path(ctx)
    state = watch.status() if watch is not None else {"ok": True, "loaded_at": None, "error": None,
                                                      "error_at": None}
    return {"path": str(path), "exists": path.exists(), **state}


def overview(ctx: Ctx, watch: ConfigWatch | None = None) -> dict[str, Any]:
    """Everything the Settings view shows (``watch``: the server's, for the file's state)."""
    return {
        "profiles": _profiles(ctx),
        "dispatch": {"max_in_progress": ctx.settings.dispatch.max_in_progress,
                     **_loop(health.dispatcher_status(ctx))},
        "notify": _notify(ctx),
        "boards": _boards(ctx),
        "config": _config(ctx, watch),
    }


def _cap(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{what} must be a whole number of at least 1, got {value!r}")
    return value


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    return y


def _parse(path: Path, text: str) -> Any:
    from ruamel.yaml import CommentedMap
    from ruamel.yaml.error import YAMLError

    try:
        doc = _yaml().load(text) if text.strip() else None
    except YAMLError as err:
        raise yaml_error(path, err) from None
    if doc is None:
        return CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ValidationError(f"{path}: expected a mapping at the top level")
    return doc


def _in_place(text: str, doc: Any, changes: list[tuple[tuple[str, ...], int]]) -> str | None:
    """``text`` with each value replaced where it stands, or None when one is not written yet
    (or not written as a plain scalar, an anchor say)."""
    from ruamel.yaml import CommentedMap

    lines = text.splitlines(keepends=True)
    spots = []
    for keys, value in changes:
        parent = doc
        for k in keys[:-1]:
            parent = parent.get(k) if isinstance(parent, CommentedMap) else None
        if not isinstance(parent, CommentedMap) or keys[-1] not in parent:
            return None
        line, col = parent.lc.value(keys[-1])
        m = _SCALAR.match(lines[line], col) if line < len(lines) else None
        old = parent[keys[-1]]
        written = m.group().strip("'\"") if m else None
        if written != str(old) and not (old is None and written in _NULLS):
            return None
        spots.append((line, col, m.end() if m else col, value))
    for line, col, end, value in sorted(spots, reverse=True):
        lines[line] = lines[line][:col] + str(value) + lines[line][end:]
    return "".join(lines)


def _edited(path: Path, text: str, changes: list[tuple[tuple[str, ...], int]]) -> str:
    """``text`` with each ``(keys, value)`` set. Values already written are replaced where they
    stand, so nothing else in the file changes; otherwise the document is dumped by ruamel.yaml
    (comments and order kept, missing sections added)."""
    from ruamel.yaml import CommentedMap

    doc = _parse(path, text)
    done = _in_place(text, doc, changes)
    if done is not None:
        return done
    for keys, value in changes:
        parent = doc
        for k in keys[:-1]:
            if not isinstance(parent.get(k), CommentedMap):
                parent[k] = CommentedMap()
            parent = parent[k]
        parent[keys[-1]] = value
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _write(path: Path, text: str) -> None:
    """Replace the file at once (a reader sees the old or the new one), keeping its mode; a
    symbolic link stays one (its target is replaced)."""
    path = path.resolve()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600  # it may come to hold a token
    fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_caps(ctx: Ctx, *, profiles: dict[str, int] | None = None, max_in_progress: int | None = None,
                watch: ConfigWatch | None = None) -> dict[str, Any]:
    """Set profiles' ``max_concurrency`` and ``dispatch.max_in_progress`` in config.yaml and put
    the file in force (through ``watch``, the server's, when given). Unknown profile: NotFound;
    a value the loader refuses: ValidationError, and the file is not touched."""
    path = config_path(ctx)
    changes: list[tuple[tuple[str, ...], int]] = []
    for raw, cap in (profiles or {}).items():
        name = orchestration.profile_name(ctx, raw)
        changes.append((("profiles", name, "max_concurrency"), _cap(cap, f"{name}.max_concurrency")))
    if max_in_progress is not None:
        changes.append((("dispatch", "max_in_progress"), _cap(max_in_progress, "max_in_progress")))
    written = False
    with _write_lock:
        text = path.read_text() if path.exists() else ""
        doc = _parse(path, text)
        for keys, _ in changes:
            if keys[0] == "profiles" and keys[1] not in (doc.get("profiles") or {}):
                raise NotFound(f"profile {keys[1]!r} is not in {path}; it cannot be changed from here")
        if changes:
            new = _edited(path, text, changes)
            load_settings({**os.environ, "KANBAN_HOME": str(ctx.settings.home)}, text=new)
            if new != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write(path, new)
                written = True
    if watch is not None:
        watch.check()
    elif written:  # no server watches the file here: put it in force now
        ConfigWatch(ctx).check(force=True)
    return overview(ctx, watch)
