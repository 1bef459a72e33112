"""Recurring work: a cron expression (in a time zone) that creates one task per occurrence.

Idempotent per occurrence: each task carries the key ``schedule:<id>:<occurrence>``, which the
database keeps unique per board, and the schedule's cursor (``last_occurrence``) only moves by a
compare-and-set. A restart, or two dispatchers firing the same occurrence at once, make one task.

Catch-up after downtime (``catch_up``): ``latest`` (the default) creates only the newest missed
occurrence; ``all`` creates every missed one (at most :data:`MAX_CATCH_UP`, the newest);
``none`` creates none that is more than :data:`GRACE_SECONDS` old. With ``skip_if_open`` an
occurrence is skipped (and counted in ``skipped``) while the task of the previous one is open.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections import deque
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Conflict, KanbanError, NotFound, ValidationError
from ..store import rows
from ..store import schedules as store
from .base import Actor, Ctx
from .common import clean_title

log = logging.getLogger("agentkanban.schedules")

CATCH_UP = ("latest", "all", "none")
MAX_CATCH_UP = 100
GRACE_SECONDS = 300.0
CLOSED = ("done", "archived")
# The task options a schedule may carry; each is checked by tasks.create when the schedule is added.
TEMPLATE_KEYS = ("body", "assignee", "priority", "tenant", "skills", "max_runtime_seconds",
                 "max_retries", "workspace", "triage")


def parse_tz(tz: str | None) -> ZoneInfo:
    name = (tz or "UTC").strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"tz: unknown time zone {name!r}; use an IANA name such as "
                              "Europe/Berlin or UTC") from None


def check_cron(cron: str, tz: str | None = None) -> str:
    """The expression, normalised; a ValidationError naming the field when it is not valid."""
    from cronsim import CronSim, CronSimError

    expr = " ".join((cron or "").split())
    try:
        CronSim(expr, datetime.now(parse_tz(tz)))
    except CronSimError as err:
        raise ValidationError(f"cron: {expr!r} is not a valid cron expression ({err}); "
                              "five fields: minute hour day-of-month month day-of-week") from None
    return expr


def _iter_after(cron: str, tz: str, after: float) -> Any:
    from cronsim import CronSim

    for dt in CronSim(cron, datetime.fromtimestamp(after, ZoneInfo(tz))):
        ts = dt.timestamp()
        if ts > after:
            yield ts


def next_after(cron: str, tz: str, after: float) -> float:
    return next(iter(_iter_after(cron, tz, after)))


def due_occurrences(cron: str, tz: str, after: float, until: float) -> tuple[list[float], float]:
    """The newest :data:`MAX_CATCH_UP` occurrences in ``(after, until]`` and the last of them
    (``after`` if none)."""
    kept: deque[float] = deque(maxlen=MAX_CATCH_UP)
    for ts in _iter_after(cron, tz, after):
        if ts > until:
            break
        kept.append(ts)
    return list(kept), (kept[-1] if kept else after)


def _template(opts: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(opts) - set(TEMPLATE_KEYS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not an option a schedule can set")
    return {k: v for k, v in opts.items() if v not in (None, (), [])}


def _check_template(t: dict[str, Any]) -> None:
    """The checks a created task gets, made before the schedule is stored (never at 9 a.m.)."""
    from .common import clean_assignee, clean_body
    from .tasks import _clean_skills, parse_workspace

    clean_body(t.get("body"))
    clean_assignee(t.get("assignee"))
    parse_workspace(t.get("workspace"))
    _clean_skills(t.get("skills"))
    for key in ("priority", "max_runtime_seconds", "max_retries"):
        if key in t and (isinstance(t[key], bool) or not isinstance(t[key], int)):
            raise ValidationError(f"{key}: must be a whole number")
    if t.get("max_runtime_seconds", 1) <= 0 or t.get("max_retries", 1) < 1:
        raise ValidationError("max_runtime_seconds must be positive and max_retries at least 1")


def view(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "board", "title", "cron", "tz", "catch_up", "last_occurrence",
                               "next_at", "last_task_id", "skipped", "created_at")}
    out["skip_if_open"] = bool(row["skip_if_open"])
    out["paused"] = bool(row["paused"])
    out["template"] = json.loads(row["template"])
    return out


def add(ctx: Ctx, board: str, *, title: str, cron: str, tz: str | None = None,
        catch_up: str = "latest", skip_if_open: bool = False, **opts: Any) -> dict[str, Any]:
    title = clean_title(title)
    tz_name = parse_tz(tz).key
    expr = check_cron(cron, tz_name)
    if catch_up not in CATCH_UP:
        raise ValidationError(f"catch_up: must be one of {', '.join(CATCH_UP)}, got {catch_up!r}")
    template = _template(opts)
    _check_template(template)
    now = ctx.now()
    row = {"id": "s_" + secrets.token_hex(4), "board": board, "title": title, "cron": expr,
           "tz": tz_name, "catch_up": catch_up, "skip_if_open": int(bool(skip_if_open)),
           "template": rows.dumps(template, "schedule"), "paused": 0, "created_at": now,
           "updated_at": now, "last_occurrence": None, "next_at": next_after(expr, tz_name, now),
           "last_task_id": None, "skipped": 0}
    with ctx.store.write() as tx:
        store.insert_schedule(tx.conn, row)
    return view(row)


def _load(conn: Any, board: str, schedule_id: str) -> dict[str, Any]:
    row = store.get(conn, schedule_id.strip())
    if row is None or row["board"] != board:
        raise NotFound(f"schedule {schedule_id} not found on board {board!r}")
    return row


def list_schedules(ctx: Ctx, board: str | None) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        return [view(r) for r in store.list_for(conn, board)]


def set_paused(ctx: Ctx, board: str, schedule_id: str, paused: bool) -> dict[str, Any]:
    """Pause, or resume: a resumed schedule does not catch up what fell due while it was paused."""
    now = ctx.now()
    with ctx.store.write() as tx:
        row = _load(tx.conn, board, schedule_id)
        values: dict[str, Any] = {"paused": int(paused), "updated_at": now}
        if not paused and row["paused"]:
            values |= {"last_occurrence": now, "next_at": next_after(row["cron"], row["tz"], now)}
        store.set_fields(tx.conn, row["id"], values)
        return view({**row, **values})


def remove(ctx: Ctx, board: str, schedule_id: str) -> None:
    with ctx.store.write() as tx:
        store.remove(tx.conn, _load(tx.conn, board, schedule_id)["id"])


def fire_due(ctx: Ctx) -> list[str]:
    """Create the tasks of every occurrence due now; returns their ids. The dispatcher's pass
    calls this; any number of dispatchers may call it at once."""
    now = ctx.now()
    with ctx.store.read() as conn:
        due = store.due(conn, now)
    made: list[str] = []
    for row in due:
        try:
            # Through a database restart: each schedule's occurrences are one transaction.
            made += ctx.retry.run(functools.partial(_fire, ctx, row, now))
        except KanbanError as err:
            log.warning("schedule %s: could not create its task: %s", row["id"], err)
    return made


def _to_fire(row: dict[str, Any], occurrences: list[float], now: float) -> list[float]:
    if row["catch_up"] == "all":
        return occurrences
    if row["catch_up"] == "none":
        return [o for o in occurrences[-1:] if now - o <= GRACE_SECONDS]
    return occurrences[-1:]


def _fire(ctx: Ctx, row: dict[str, Any], now: float) -> list[str]:
    cursor = row["last_occurrence"] if row["last_occurrence"] is not None else row["created_at"]
    occurrences, last = due_occurrences(row["cron"], row["tz"], cursor, now)
    made: list[str] = []
    open_task = row["last_task_id"]
    skipped = 0
    for occ in _to_fire(row, occurrences, now):
        if row["skip_if_open"] and open_task and _is_open(ctx, open_task):
            skipped += 1
            continue
        open_task = _create(ctx, row, occ)
        made.append(open_task)
    values = {"last_occurrence": last, "next_at": next_after(row["cron"], row["tz"], max(last, now)),
              "last_task_id": open_task, "skipped": row["skipped"] + skipped, "updated_at": now}
    with ctx.store.write() as tx:
        if not store.advance(tx.conn, row["id"], row["last_occurrence"], values):
            return []  # another dispatcher moved the cursor first; its tasks are the same ones
    return made


def _is_open(ctx: Ctx, task_id: str) -> bool:
    with ctx.store.read() as conn:
        status = store.task_status(conn, task_id)
    return status is not None and status not in CLOSED


def _create(ctx: Ctx, row: dict[str, Any], occurrence: float) -> str:
    from . import tasks as tasks_svc

    key = f"schedule:{row['id']}:{int(occurrence)}"
    with ctx.store.read() as conn:
        existing = store.task_by_key(conn, row["board"], key)
    if existing:
        return existing
    actor = Actor(name=f"schedule:{row['id']}")
    try:
        return tasks_svc.create(ctx, row["board"], title=row["title"], actor=actor,
                                idempotency_key=key, **json.loads(row["template"])).task.id
    except Conflict:  # another dispatcher created it a moment ago: the key is unique
        with ctx.store.read() as conn:
            found = store.task_by_key(conn, row["board"], key)
        if found is None:
            raise
        return found
