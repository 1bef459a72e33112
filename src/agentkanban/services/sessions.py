"""What one attempt leaves for the next: checkpoints, the agent's session, the log's tail.

The dispatcher asks :func:`launch_plan` which command to start (``resume_command`` with the
session of an earlier attempt under the same profile, else ``command``, saying why) and hands
each ended attempt's log to :func:`settle` once its worker is gone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..domain import events as ev
from ..errors import ValidationError
from ..store import Tx, rows
from ..store import events as store_events
from ..store import runs as store_runs
from ..store import usage as store_usage
from .base import Actor, Ctx
from .common import load
from .usage import add_in_tx, own_run

MAX_SESSION = 256
MAX_DATA = 16_000  # bytes of a checkpoint's JSON
MAX_NOTE = 500
LOG_TAIL = 4096
# Letters, digits and ._:@+=/- only: safe in an argv, and inert where a profile puts the id in an
# `sh -c` script (no $, backquote, quote, ;, |, &, parentheses, glob or space can get in).
_SESSION_RE = re.compile(r"^[A-Za-z0-9._:@+=/-]+$")


def clean_session(session_id: str | None) -> str:
    s = (session_id or "").strip()
    if not s:
        raise ValidationError("session id is empty")
    if len(s) > MAX_SESSION:
        raise ValidationError(f"session id is longer than {MAX_SESSION} characters")
    if not _SESSION_RE.match(s):
        raise ValidationError("session id may only hold letters, digits and . _ : @ + = / - "
                              "(no spaces, control characters or shell characters)")
    return s


def clean_data(data: Any) -> str | None:
    """A checkpoint's data as stored JSON; a string is parsed as JSON first."""
    if data is None:
        return None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as err:
            raise ValidationError(f"checkpoint data is not valid JSON: {err}") from None
    text = rows.dumps(data, "checkpoint data") or "null"
    if len(text.encode()) > MAX_DATA:
        raise ValidationError(f"checkpoint data is over {MAX_DATA} bytes; keep the details in the workspace")
    return text


def checkpoint_in_tx(tx: Tx, run_id: int, task_id: str, note: str | None, data: str | None,
                     now: float) -> None:
    """Keep the latest checkpoint of an attempt (called by the heartbeat that carries it)."""
    if note is None and data is None:
        return
    values: dict[str, Any] = {"checkpoint_at": now}
    if note is not None:
        values["checkpoint_note"] = note[:MAX_NOTE]
    if data is not None:
        values["checkpoint_data"] = data
    store_usage.set_state(tx.conn, run_id, task_id, values)


def report_session(ctx: Ctx, board: str, task_id: str, *, actor: Actor, session_id: str) -> dict[str, Any]:
    sid = clean_session(session_id)
    now = ctx.now()
    with ctx.store.write() as tx:
        run = own_run(tx, board, task_id, actor, "report a session")
        store_usage.set_state(tx.conn, run.id, run.task_id, {"session_id": sid})
        store_events.append(tx, board=board, task_id=run.task_id, kind=ev.HEARTBEAT, now=now,
                            run_id=run.id, payload={"note": "agent session reported", "session": True})
    return {"task_id": run.task_id, "run_id": run.id, "session_id": sid}


@dataclass(frozen=True)
class Launch:
    resume: bool
    session_id: str | None
    note: str | None  # why it did not resume, when an earlier session existed


def launch_plan(ctx: Ctx, board: str, task_id: str, profile: str, *, can_resume: bool,
                workspace_exists: Any) -> Launch:
    """Resume the newest session an earlier attempt of this task left, if that attempt ran under
    the same profile, the profile has a ``resume_command`` and its workspace still exists
    (``workspace_exists(path)``); otherwise start afresh and say why."""
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        states = store_usage.states_for_task(conn, task.id)
        runs = {r.id: r for r in store_runs.for_task(conn, task.id)}
    earlier = [s for rid, s in sorted(states.items(), reverse=True)
               if s.get("session_id") and rid != task.current_run_id and rid in runs]
    if not earlier:
        return Launch(False, None, None)
    last = earlier[0]
    prev = runs[int(last["run_id"])]
    sid = last["session_id"]
    if prev.profile != profile:
        return Launch(False, None, f"not resuming session {sid}: it was left by profile "
                                   f"{prev.profile!r}, and this attempt runs as {profile!r}")
    if not can_resume:
        return Launch(False, None, f"not resuming session {sid}: profile {profile!r} has no resume_command")
    if last.get("workspace") and not workspace_exists(last["workspace"]):
        return Launch(False, None, f"not resuming session {sid}: its workspace {last['workspace']} "
                                   "no longer exists")
    return Launch(True, sid, None)


def note_launch(ctx: Ctx, board: str, task_id: str, run_id: int, *, workspace: str,
                launch: Launch, usage_from: str | None) -> None:
    """Remember how the attempt was started (the context shows it to the worker)."""
    with ctx.store.write() as tx:
        store_usage.set_state(tx.conn, run_id, task_id, {
            "workspace": workspace, "resumed_from": launch.session_id if launch.resume else None,
            "launch_note": launch.note, "usage_from": usage_from})


def unsettled(ctx: Ctx, board: str) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        return store_usage.unsettled(conn, board)


def settle(ctx: Ctx, board: str, run_id: int, *, log_tail: str | None,
           entries: list[dict[str, Any]], session_id: str | None, source: str | None) -> None:
    """Keep an ended attempt's log tail and record what its output said it used (once)."""
    now = ctx.now()
    with ctx.store.write() as tx:
        run = store_runs.get(tx.conn, run_id)
        if run is None:
            return
        state = store_usage.states_for_task(tx.conn, run.task_id).get(run_id, {})
        if state.get("settled_at") is not None:
            return
        values: dict[str, Any] = {"settled_at": now, "log_tail": log_tail}
        if session_id and not state.get("session_id"):
            try:
                values["session_id"] = clean_session(session_id)
            except ValidationError:
                pass  # an agent's odd id is not worth failing the settlement over
        store_usage.set_state(tx.conn, run_id, run.task_id, values)
        for e in entries:
            add_in_tx(ctx, tx, run, board, e, source or "log", now)
