"""Orchestration settings and the profile roster (the reference dashboard's orchestration panel).

The settings live in the database (key ``orchestration``), so every server and CLI on it agrees:

- ``orchestrator_profile``: the configured profile that runs specify, decompose and describe-auto
  jobs (see :mod:`agentkanban.services.orchestrate`). Empty means none: those jobs then answer
  with what to configure.
- ``default_assignee``: the profile a decomposed child gets when the orchestrator names none or
  names one that is not configured.
- ``auto_decompose``, ``auto_promote_children``: stored for the reference client; jobs run only when
  asked (the buttons, the routes), never on their own.

Profiles are the ``profiles:`` of config.yaml; their descriptions are written here (durably, in
the ``profile_notes`` table), by a person or by the orchestrator (``description_auto``).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import NotFound, ValidationError
from ..store import kv, rows
from ..store import profile_notes as notes
from .base import Ctx

KEY = "orchestration"
DEFAULTS: dict[str, Any] = {"orchestrator_profile": "", "default_assignee": "",
                            "auto_decompose": False, "auto_promote_children": True}
MAX_DESCRIPTION = 4000


def _configured(ctx: Ctx) -> dict[str, str]:
    """lower-case name -> name as configured."""
    return {name.lower(): name for name in ctx.settings.profiles}


def _resolve(ctx: Ctx, name: str) -> str:
    return _configured(ctx).get(name.strip().lower(), "") if name else ""


def get_settings(ctx: Ctx) -> dict[str, Any]:
    with ctx.store.read() as conn:
        row = kv.get(conn, KEY)
    stored = json.loads(row[0]) if row else {}
    out = {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}
    out["resolved_orchestrator_profile"] = _resolve(ctx, out["orchestrator_profile"])
    out["resolved_default_assignee"] = _resolve(ctx, out["default_assignee"])
    # The reference shows its own active profile; ours has none, so the configured default answers.
    out["active_profile"] = out["resolved_default_assignee"] or out["resolved_orchestrator_profile"]
    return out


def update_settings(ctx: Ctx, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some settings; a profile must be configured ("" clears it)."""
    known = _configured(ctx)
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key in ("orchestrator_profile", "default_assignee"):
            name = str(value).strip()
            if name and name.lower() not in known:
                have = ", ".join(sorted(ctx.settings.profiles)) or "none; add one under profiles: in config.yaml"
                raise ValidationError(f"{key}: no profile named {name!r} is configured (configured: {have})")
            clean[key] = known.get(name.lower(), "")
        elif key in ("auto_decompose", "auto_promote_children"):
            clean[key] = bool(value)
        else:
            raise ValidationError(f"unknown orchestration setting {key!r}")
    current = {k: v for k, v in get_settings(ctx).items() if k in DEFAULTS}
    current.update(clean)
    with ctx.store.write() as tx:
        kv.put(tx.conn, KEY, rows.dumps(current, "orchestration") or "{}", ctx.now())
    return get_settings(ctx)


def roster(ctx: Ctx) -> list[dict[str, Any]]:
    """Every configured profile with its description, in the reference's shape."""
    with ctx.store.read() as conn:
        written = notes.all_notes(conn)
    default = get_settings(ctx)["resolved_default_assignee"]
    out = []
    for name in sorted(ctx.settings.profiles):
        profile = ctx.settings.profiles[name]
        description, auto = written.get(name, (None, False))
        program = profile.command[0].rsplit("/", 1)[-1] if profile.command else ""
        out.append({"name": name, "is_default": name == default, "description": description or "",
                    "description_auto": bool(auto and description), "model": "", "provider": program,
                    "skill_count": 0, "max_concurrency": profile.max_concurrency})
    return out


def profile_name(ctx: Ctx, raw: str) -> str:
    name = _resolve(ctx, raw)
    if not name:
        raise NotFound(f"no profile named {raw!r} is configured (profiles: in config.yaml)")
    return name


def describe(ctx: Ctx, raw_name: str, description: str | None, *, auto: bool = False) -> dict[str, Any]:
    """Store a profile's description ("" or None clears it)."""
    name = profile_name(ctx, raw_name)
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(f"a profile description is at most {MAX_DESCRIPTION} characters")
    with ctx.store.write() as tx:
        notes.put(tx.conn, name, text or None, auto and bool(text), ctx.now())
    return next(p for p in roster(ctx) if p["name"] == name)
