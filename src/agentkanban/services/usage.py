"""Usage and cost: what each attempt reported, summed per run, task, profile, board and day.

A report adds to the ledger and never changes an earlier one. Money is dollars as the agent
reported them, or tokens priced with the ``prices`` table when it reported none.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from ..domain.models import Run
from ..errors import Forbidden, ValidationError
from ..store import Tx
from ..store import runs as store_runs
from ..store import usage as store_usage
from .base import Actor, Ctx, hash_token
from .common import load

MAX_TOKENS = 10_000_000_000  # in one report: more is a bug in the reporter, not a bill
MAX_COST = 100_000.0
REPORT_BY = ("profile", "board", "day", "task", "model", "run")
TOKEN_FIELDS = store_usage.TOKEN_COLUMNS


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _count(name: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"{name} must be a whole number of tokens, got {value!r}")
    try:
        n = float(value)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number of tokens, got {value!r}") from None
    if not math.isfinite(n) or n != int(n):
        raise ValidationError(f"{name} must be a whole number of tokens, got {value!r}")
    if n < 0 or n > MAX_TOKENS:
        raise ValidationError(f"{name} must be between 0 and {MAX_TOKENS:,}, got {value!r}")
    return int(n)


def clean_cost(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"cost must be a number of dollars, got {value!r}")
    try:
        cost = float(value)
    except ValueError:
        raise ValidationError(f"cost must be a number of dollars, got {value!r}") from None
    if not math.isfinite(cost) or cost < 0 or cost > MAX_COST:
        raise ValidationError(f"cost must be between 0 and {MAX_COST:,.0f} dollars, got {value!r}")
    return cost


def clean_model(model: str | None) -> str | None:
    model = (model or "").strip() or None
    if model is not None and (len(model) > 128 or not model.isprintable()):
        raise ValidationError("model must be a printable name of at most 128 characters")
    return model


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Checked usage numbers: tokens as ints, ``cost_usd`` (or None) and ``model``."""
    out: dict[str, Any] = {f: _count(f.replace("_", "-"), values.get(f)) for f in TOKEN_FIELDS}
    out["cost_usd"] = clean_cost(values.get("cost_usd"))
    out["model"] = clean_model(values.get("model"))
    if not any(out[f] for f in TOKEN_FIELDS) and not out["cost_usd"]:
        raise ValidationError("nothing to record: give at least one token count or a cost")
    return out


def price(ctx: Ctx, values: dict[str, Any]) -> float:
    """The report's dollars: as given, else its tokens at the model's price (0 when unpriced)."""
    if values.get("cost_usd") is not None:
        return float(values["cost_usd"])
    p = ctx.settings.prices.get(values.get("model") or "")
    if p is None:
        return 0.0
    return (values["input_tokens"] * p.input_per_mtok + values["output_tokens"] * p.output_per_mtok
            + values["cache_read_tokens"] * p.cache_read_per_mtok
            + values["cache_write_tokens"] * p.cache_write_per_mtok) / 1_000_000


def add_in_tx(ctx: Ctx, tx: Tx, run: Run, board: str, values: dict[str, Any], source: str,
              now: float) -> dict[str, Any]:
    """Write one checked report against ``run``; the model defaults to the profile's."""
    profile = ctx.settings.profiles.get(run.profile or "") or next(
        (p for n, p in ctx.settings.profiles.items() if n.strip().lower() == run.profile), None)
    model = values.get("model") or (profile.model if profile else None)
    row = {**{f: values[f] for f in TOKEN_FIELDS}, "model": model}
    row["cost_usd"] = price(ctx, {**row, "cost_usd": values.get("cost_usd")})
    store_usage.add(tx.conn, {**row, "run_id": run.id, "task_id": run.task_id, "board": board,
                              "profile": run.profile, "day": day_of(now), "source": source,
                              "created_at": now})
    return row


def own_run(tx: Tx, board: str, task_id: str, actor: Actor, verb: str) -> Run:
    """The attempt a report belongs to: a worker's own (current or just ended, proven by its
    token), or for a person the task's current attempt, else its latest."""
    task = load(tx.conn, board, task_id)
    if actor.is_worker:
        if actor.worker_task != task.id:
            raise Forbidden(f"a worker may only {verb} for its own task ({actor.worker_task}), not {task.id}")
        if actor.run_id is None or not actor.run_token or \
                store_runs.token_hash(tx.conn, actor.run_id) != hash_token(actor.run_token):
            raise Forbidden(f"this worker's attempt token is not valid for {task.id}")
        run = store_runs.get(tx.conn, actor.run_id)
    else:
        run_id = task.current_run_id
        runs = store_runs.for_task(tx.conn, task.id)
        run = next((r for r in runs if r.id == run_id), runs[-1] if runs else None)
    if run is None or run.task_id != task.id:
        raise ValidationError(f"task {task.id} has no attempt to {verb} for")
    return run


def record(ctx: Ctx, board: str, task_id: str, *, actor: Actor, source: str = "cli",
           **values: Any) -> dict[str, Any]:
    """Add one report to an attempt's usage; returns what was stored and the attempt's totals."""
    checked = clean(values)
    now = ctx.now()
    with ctx.store.write() as tx:
        run = own_run(tx, board, task_id, actor, "report usage")
        row = add_in_tx(ctx, tx, run, board, checked, source, now)
        totals = store_usage.report(tx.conn, [], task_id=run.task_id)[0]
        return {"task_id": run.task_id, "run_id": run.id, "recorded": row, "task_total": totals}


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def report(ctx: Ctx, by: str | None = None, *, board: str | None = None, since: str | None = None,
           until: str | None = None) -> dict[str, Any]:
    """Sums grouped by ``by`` (profile, board, day, task, model or run) and the grand total."""
    groups = [b.strip() for b in (by or "").split(",") if b.strip()]
    bad = [g for g in groups if g not in REPORT_BY]
    if bad:
        raise ValidationError(f"cannot group usage by {bad[0]!r}; use one of: {', '.join(REPORT_BY)}")
    for name, day in (("since", since), ("until", until)):
        if day is not None:
            try:
                if not _DAY.fullmatch(day):  # strptime alone takes "2026-1-5" and " 5"
                    raise ValueError(day)
                datetime.strptime(day, "%Y-%m-%d")
            except ValueError:
                raise ValidationError(f"{name} must be a day as YYYY-MM-DD, got {day!r}") from None
    with ctx.store.read() as conn:
        rows = store_usage.report(conn, groups, board=board, since_day=since, until_day=until) if groups else []
        total = store_usage.report(conn, [], board=board, since_day=since, until_day=until)[0]
    return {"by": groups, "rows": [_tidy(r) for r in rows], "total": _tidy(total)}


def _tidy(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for f in TOKEN_FIELDS:
        out[f] = int(out[f] or 0)
    out["tokens"] = sum(out[f] for f in TOKEN_FIELDS)
    out["cost_usd"] = round(float(out["cost_usd"] or 0), 8)
    return out


def for_task(ctx: Ctx, board: str, task_id: str) -> dict[str, Any]:
    """A task's usage: the total over every attempt, each attempt's, and its limit."""
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        total = store_usage.report(conn, [], task_id=task.id)[0]
        per_run = store_usage.report(conn, ["run"], task_id=task.id)
        limit = store_usage.limits(conn, [task.id]).get(task.id)
    return {"task_id": task.id, "total": _tidy(total), "runs": [_tidy(r) for r in per_run],
            "max_cost_usd": limit}


def spent_today(ctx: Ctx, board: str | None = None) -> dict[str, Any]:
    today = day_of(ctx.now())
    with ctx.store.read() as conn:
        total = store_usage.report(conn, [], board=board, since_day=today, until_day=today)[0]
    return {"day": today, **_tidy(total)}


def clean_limit(value: Any) -> float:
    cost = clean_cost(value)
    if cost is None or cost <= 0:
        raise ValidationError(f"max cost must be a positive number of dollars, got {value!r}")
    return cost


def parse_task_limit(raw: float | str | None) -> tuple[bool, float | None]:
    """``max_cost_usd`` on an edit: ``(False, None)`` leaves the limit alone; a positive number
    sets it; 0, ``""`` or ``"none"`` clears it (``(True, None)``)."""
    if raw is None:
        return False, None
    if (isinstance(raw, str) and raw.strip().lower() in ("none", "", "0")) or \
            (isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == 0):
        return True, None
    return True, clean_limit(raw)


def set_task_limit_in_tx(tx: Tx, board: str, task_id: str, max_cost_usd: float | None, now: float) -> None:
    from ..domain import events as ev
    from ..store import events as store_events

    store_usage.set_limit(tx.conn, task_id, max_cost_usd)
    store_events.append(tx, board=board, task_id=task_id, kind=ev.EDITED, now=now,
                        payload={"fields": ["max_cost_usd"], "max_cost_usd": max_cost_usd})


def task_limit(ctx: Ctx, task_id: str) -> float | None:
    with ctx.store.read() as conn:
        return store_usage.limits(conn, [task_id]).get(task_id)
