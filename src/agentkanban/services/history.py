"""The earlier attempts in a worker's context: how each ended, where it got to, what it cost.

Newest first, so that a context cut short by a model keeps what matters most; the whole section
stays under :data:`SECTION_CAP` characters (older attempts shrink to one line each).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from ..domain import events as ev
from ..domain.models import Comment, Event, Run
from ..store import events as store_events
from ..store import usage as store_usage

SECTION_CAP = 24_000
TAIL_NEWEST = 4096
TAIL_OLDER = 1024
FIELD = 1500
END_KINDS = {ev.CRASHED, ev.TIMED_OUT, ev.RATE_LIMITED, ev.PROTOCOL_VIOLATION, ev.SPAWN_FAILED,
             ev.RECLAIMED, ev.GAVE_UP}


def load(conn: Connection, task_id: str) -> dict[str, Any]:
    return {"states": store_usage.states_for_task(conn, task_id),
            "usage": {int(r["run"]): r for r in store_usage.report(conn, ["run"], task_id=task_id)},
            "events": store_events.for_task(conn, task_id, 500)}


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} chars omitted]"


def _fence(text: str) -> list[str]:
    """An indented (markdown code) block: no line of it starts a JSON object a usage parser of
    a later attempt's log would count again, and no fence inside it can end it early."""
    return ["    " + line for line in text.rstrip("\n").splitlines()]


def _usage_line(u: dict[str, Any] | None) -> str | None:
    if not u:
        return None
    tokens = sum(int(u[k] or 0) for k in store_usage.TOKEN_COLUMNS)
    return (f"_usage_: {tokens:,} tokens (in {int(u['input_tokens']):,}, out {int(u['output_tokens']):,}, "
            f"cache read {int(u['cache_read_tokens']):,}), ${float(u['cost_usd'] or 0):.4f}")


def _since(run: Run, nxt: Run | None, comments: list[Comment], events: list[Event]) -> list[str]:
    """People's words between this attempt's end and the next attempt's start."""
    start = run.ended_at or run.started_at
    end = nxt.started_at if nxt else float("inf")
    out = []
    for e in events:
        if e.kind == ev.UNBLOCKED and start <= e.created_at <= end:
            by = (e.payload or {}).get("by")
            out.append(f"- unblocked{f' by {by}' if by else ''}")
    for c in comments:
        if start <= c.created_at <= end:
            out.append(f"- comment from `{c.author}`: {_cap(c.body.strip(), 300)}")
    return out


def _one(n: int, run: Run, nxt: Run | None, data: dict[str, Any], comments: list[Comment],
         tail_cap: int, when: Any) -> list[str]:
    state = data["states"].get(run.id, {})
    lines = [f"### Attempt {n} — {run.outcome} ({run.profile or '?'}, {when(run)})"]
    ended = [e for e in data["events"] if e.run_id == run.id and e.kind in END_KINDS]
    exit_code = next(((e.payload or {}).get("exit_code") for e in ended
                      if (e.payload or {}).get("exit_code") is not None), None)
    if exit_code is not None:
        lines.append(f"_exit code_: {exit_code}")
    if run.summary:
        label = "_block reason_" if run.outcome == "blocked" else "_summary_"
        lines.append(f"{label}: {_cap(run.summary, FIELD)}")
    if run.error:
        lines.append(f"_error_: {_cap(run.error, FIELD)}")
    if run.metadata:
        lines.append(f"_metadata_: `{_cap(json.dumps(run.metadata, sort_keys=True), FIELD)}`")
    if state.get("checkpoint_note") or state.get("checkpoint_data") is not None:
        lines.append(f"_last checkpoint_: {state.get('checkpoint_note') or '(no note)'}")
        if state.get("checkpoint_data") is not None:
            lines.append(f"_checkpoint data_: `{_cap(json.dumps(state['checkpoint_data'], sort_keys=True), FIELD)}`")
    if state.get("session_id"):
        lines.append(f"_agent session_: {state['session_id']}")
    usage = _usage_line(data["usage"].get(run.id))
    if usage:
        lines.append(usage)
    since = _since(run, nxt, comments, data["events"])
    if since:
        lines += ["_since then_:", *since]
    tail = (state.get("log_tail") or "").strip()
    if tail:
        lines += [f"_log tail_ (last {min(len(tail), tail_cap)} chars):", *_fence(tail[-tail_cap:])]
    return lines


def render(closed: list[Run], current: Run | None, data: dict[str, Any], comments: list[Comment],
           when: Any) -> list[str]:
    out: list[str] = []
    if current is not None:
        state = data["states"].get(current.id, {})
        if state.get("resumed_from"):
            out += ["", "## This attempt",
                    f"Resumed agent session {state['resumed_from']} of an earlier attempt: "
                    "carry on from where it stopped."]
        elif state.get("launch_note"):
            out += ["", "## This attempt", f"Started afresh ({state['launch_note']}); use the "
                    "earlier attempts below to pick up the work."]
    if not closed:
        return out
    out += ["", "## Prior attempts on this task (newest first)"]
    used = 0
    nexts: list[Run | None] = [*closed[1:], current]
    for i in range(len(closed) - 1, -1, -1):
        run = closed[i]
        full = used < SECTION_CAP
        block = _one(i + 1, run, nexts[i], data, comments,
                     TAIL_NEWEST if i == len(closed) - 1 else TAIL_OLDER, when) if full else \
            [f"- attempt {i + 1}: {run.outcome} ({run.profile or '?'}, {when(run)})"]
        text = "\n".join(block)
        if full and used + len(text) > SECTION_CAP and i != len(closed) - 1:
            block = [f"- attempt {i + 1}: {run.outcome} ({run.profile or '?'}, {when(run)})"]
            text = block[0]
            used = SECTION_CAP
        used += len(text)
        out += block
    return out
