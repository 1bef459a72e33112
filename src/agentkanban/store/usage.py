"""The usage ledger, per-attempt state (checkpoint, session, log tail) and per-task cost limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from .rows import loads
from .schema import run_state, runs, task_limits, tasks, usage, usage_daily

TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
SUMS = [*(func.coalesce(func.sum(usage.c[c]), 0).label(c) for c in TOKEN_COLUMNS),
        func.coalesce(func.sum(usage.c.cost_usd), 0.0).label("cost_usd"),
        func.count().label("reports")]
GROUPS = {"run": usage.c.run_id, "task": usage.c.task_id, "profile": usage.c.profile,
          "board": usage.c.board, "day": usage.c.day, "model": usage.c.model}


# -- per-attempt state -------------------------------------------------------------------------

def set_state(conn: Connection, run_id: int, task_id: str, values: dict[str, Any]) -> None:
    """Update the attempt's state row, creating it first if needed (writes are serialised)."""
    res = conn.execute(update(run_state).where(run_state.c.run_id == run_id).values(**values))
    if res.rowcount == 0:
        conn.execute(insert(run_state).values(run_id=run_id, task_id=task_id, **values))


def activity(conn: Connection, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``run_id -> {note, note_at, progress}`` of these attempts: their last checkpoint note and
    reported progress (``{"done", "total"}`` or None)."""
    if not run_ids:
        return {}
    c = run_state.c
    q = (select(c.run_id, c.checkpoint_note, c.checkpoint_at, c.progress_done, c.progress_total)
         .where(c.run_id.in_(run_ids)))
    return {int(r[0]): {"note": r[1], "note_at": int(r[2]) if r[2] is not None else None,
                        "progress": {"done": r[3], "total": r[4]} if r[4] else None}
            for r in conn.execute(q)}


def states_for_task(conn: Connection, task_id: str) -> dict[int, dict[str, Any]]:
    rows = conn.execute(select(run_state).where(run_state.c.task_id == task_id))
    out = {}
    for r in rows:
        d = dict(r._mapping)
        d["checkpoint_data"] = loads(d["checkpoint_data"])
        out[int(d["run_id"])] = d
    return out


def unsettled(conn: Connection, board: str) -> list[dict[str, Any]]:
    """Ended attempts of ``board`` whose log was not read yet: run id, task, profile, parser."""
    q = (select(run_state.c.run_id, run_state.c.task_id, run_state.c.usage_from, runs.c.profile,
                runs.c.ended_at)
         .join(runs, runs.c.id == run_state.c.run_id)
         .where(run_state.c.settled_at.is_(None), runs.c.board == board, runs.c.ended_at.is_not(None))
         .order_by(run_state.c.run_id))
    return [dict(r._mapping) for r in conn.execute(q)]


# -- the ledger --------------------------------------------------------------------------------

def add(conn: Connection, row: dict[str, Any]) -> None:
    """Append a report and add it to its day's sums (writes are serialised on both backends)."""
    conn.execute(insert(usage).values(**row))
    d = usage_daily.c
    key = (d.day == row["day"]) & (d.board == row["board"]) & (d.profile == (row["profile"] or ""))
    sums = {c: d[c] + int(row[c]) for c in TOKEN_COLUMNS}
    res = conn.execute(update(usage_daily).where(key).values(
        **sums, cost_usd=d.cost_usd + float(row["cost_usd"]), reports=d.reports + 1))
    if res.rowcount == 0:
        conn.execute(insert(usage_daily).values(
            day=row["day"], board=row["board"], profile=row["profile"] or "",
            **{c: int(row[c]) for c in TOKEN_COLUMNS}, cost_usd=float(row["cost_usd"]), reports=1))


def daily(conn: Connection, since_day: str, board: str | None = None) -> list[dict[str, Any]]:
    """Day sums per board and profile from ``since_day`` on (what budgets are checked against)."""
    q = select(usage_daily).where(usage_daily.c.day >= since_day)
    if board is not None:
        q = q.where(usage_daily.c.board == board)
    return [dict(r._mapping) for r in conn.execute(q)]


def report(conn: Connection, by: list[str], *, board: str | None = None, task_id: str | None = None,
           since_day: str | None = None, until_day: str | None = None) -> list[dict[str, Any]]:
    """Sums grouped by the columns named in ``by`` (run, task, profile, board, day, model)."""
    cols = [GROUPS[b].label(b) for b in by]
    q = select(*cols, *SUMS)
    if board is not None:
        q = q.where(usage.c.board == board)
    if task_id is not None:
        q = q.where(usage.c.task_id == task_id)
    if since_day is not None:
        q = q.where(usage.c.day >= since_day)
    if until_day is not None:
        q = q.where(usage.c.day <= until_day)
    if by:
        q = q.group_by(*cols).order_by(*cols)
    return [dict(r._mapping) for r in conn.execute(q)]


def task_costs(conn: Connection, task_ids: list[str]) -> dict[str, float]:
    if not task_ids:
        return {}
    q = (select(usage.c.task_id, func.sum(usage.c.cost_usd)).where(usage.c.task_id.in_(task_ids))
         .group_by(usage.c.task_id))
    return {tid: float(c or 0) for tid, c in conn.execute(q)}


# -- task limits -------------------------------------------------------------------------------

def set_limit(conn: Connection, task_id: str, max_cost_usd: float | None) -> None:
    conn.execute(delete(task_limits).where(task_limits.c.task_id == task_id))
    if max_cost_usd is not None:
        conn.execute(insert(task_limits).values(task_id=task_id, max_cost_usd=max_cost_usd))


def limits(conn: Connection, task_ids: list[str]) -> dict[str, float]:
    if not task_ids:
        return {}
    q = select(task_limits).where(task_limits.c.task_id.in_(task_ids))
    return {r.task_id: float(r.max_cost_usd) for r in conn.execute(q)}


def ready_limits(conn: Connection, board: str) -> dict[str, float]:
    """``max_cost_usd`` of the board's ready tasks that have one."""
    q = (select(task_limits.c.task_id, task_limits.c.max_cost_usd)
         .join(tasks, tasks.c.id == task_limits.c.task_id)
         .where(tasks.c.board == board, tasks.c.status == "ready"))
    return {r.task_id: float(r.max_cost_usd) for r in conn.execute(q)}


def last_outcome(conn: Connection, profiles: list[str], outcome: str, since: float) -> Any:
    """The newest attempt of any of ``profiles`` that ended with ``outcome`` after ``since``
    (``task_id, profile, ended_at``), or None."""
    return conn.execute(
        select(runs.c.task_id, runs.c.profile, runs.c.ended_at)
        .where(runs.c.profile.in_(profiles), runs.c.outcome == outcome, runs.c.ended_at > since)
        .order_by(runs.c.ended_at.desc()).limit(1)).first()


