"""``kanban doctor``: what goes wrong in real fleets, what to do about it, and the safe repairs.

Each finding is ``{"code", "board", "task_id", "message", "fix", "repairable"}``. ``repair``
makes only the changes that cannot lose work: reclaiming a task whose worker is gone and whose
lease expired (the reclaim is an event with the reason), and removing scratch folders of tasks
that no longer exist or are archived (each a ``repaired`` event on the task when it still exists).
Everything else needs a person and is listed with what to do.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from ..errors import KanbanError
from ..ids import TASK_ID_RE
from ..store import events as store_events
from ..store import integrity as store
from ..store import tasks as store_tasks
from . import boards as boards_svc
from . import health, integrity, runs
from .base import Actor, Ctx

DAY = 86400.0
LEASE_GRACE = 60.0  # seconds past the lease before a running task counts as stuck
REPEATS = 3  # failures in a row with the same error
DELIVERY_ATTEMPTS = 3
REPAIRED = "repaired"
DOCTOR = Actor(name="doctor")


def _finding(code: str, board: str | None, task_id: str | None, message: str, fix: str,
             repairable: bool = False) -> dict[str, Any]:
    return {"code": code, "board": board, "task_id": task_id, "message": message, "fix": fix,
            "repairable": repairable}


def diagnose(ctx: Ctx, board: str | None = None) -> list[dict[str, Any]]:
    """Every problem found, on ``board`` or (None) the whole install."""
    now = ctx.now()
    profiles = {name.strip().lower() for name in ctx.settings.profiles}
    out: list[dict[str, Any]] = []
    with ctx.store.read() as conn:
        running = store.running_tasks(conn)
        ready = store.ready_assignees(conn)
        failing = store.repeat_failures(conn, REPEATS)
        errors = {t["id"]: store.last_errors(conn, t["id"], REPEATS) for t in failing}
        quiet = store.quiet_blocked(conn, now - DAY)
        deliveries = store.failing_deliveries(conn, DELIVERY_ATTEMPTS)
        states = store.task_states(conn)
    mine = (lambda b: True) if board is None else (lambda b: b == board)
    for t in running:
        if mine(t["board"]) and (t["claim_expires"] or 0) + LEASE_GRACE < now:
            out.append(_finding("stuck_running", t["board"], t["id"],
                                f"running, but its lease expired {int(now - (t['claim_expires'] or 0))}s ago "
                                "and no dispatcher has reaped it (is one running?)",
                                "reclaim it: `kanban reclaim ID` (or `kanban doctor --repair`)", True))
    waiting = [tid for tid, b, a in ready if mine(b) and a and a in profiles]
    loop = health.dispatcher_status(ctx)
    if waiting and not (loop and loop["alive"]):
        since = "has never run" if loop is None else f"last passed {int(loop['age_seconds'])}s ago"
        out.append(_finding("dispatcher_down", board, None,
                            f"{len(waiting)} ready task(s) for configured profiles, but the dispatcher {since}",
                            "start `kanban serve` or `kanban daemon` (see `kanban status`)"))
    for task_id, b, assignee in ready:
        if not mine(b):
            continue
        if not assignee:
            out.append(_finding("ready_unassigned", b, task_id, "ready but assigned to nobody",
                                "assign it to a profile: `kanban assign ID PROFILE`"))
        elif assignee not in profiles:
            out.append(_finding("ready_unknown_profile", b, task_id,
                                f"ready for {assignee!r}, which is not a configured profile",
                                "add the profile to config.yaml or `kanban reassign` the task"))
    for t in failing:
        last = errors[t["id"]]
        if mine(t["board"]) and len(last) == REPEATS and len(set(last)) == 1:
            out.append(_finding("repeated_failure", t["board"], t["id"],
                                f"failed {t['consecutive_failures']} times in a row with the same error: "
                                f"{(last[0] or '')[:200]}",
                                "read `kanban log ID`, fix the cause, then `kanban unblock ID`"))
    for t in quiet:
        if mine(t["board"]):
            out.append(_finding("blocked_unattended", t["board"], t["id"],
                                f"blocked with no activity for {int((now - (t['at'] or now)) // 3600)}h: {t['title']}",
                                "answer the blocker (`kanban show ID`), then `kanban unblock ID`"))
    for d in deliveries:
        out.append(_finding("delivery_failing", None, None,
                            f"{d['n']} {d['status']} message(s) to {d['platform']}:{d['chat_id']}: "
                            f"{(d['error'] or '')[:200]}",
                            "check the platform's token and chat in config.yaml, then `kanban notify-retry`"))
    out += _orphan_workspaces(ctx, states, board, now)
    report = integrity.check(ctx)
    for slug in report["tallies_off"]:
        if board is not None and slug != board:
            continue
        out.append(_finding("tallies_off", slug, None, integrity.TALLIES_OFF.format(board=slug),
                            "recount them (`kanban doctor --repair`)", True))
    tallies = {integrity.TALLIES_OFF.format(board=slug) for slug in report["tallies_off"]}
    for problem in report["problems"]:
        if problem not in tallies:
            out.append(_finding("integrity", None, None, problem, "see `kanban db check`; restore from "
                                "a backup if the database was edited by hand"))
    return out


def _orphan_workspaces(ctx: Ctx, states: dict[str, tuple[str, str]], board: str | None,
                       now: float) -> list[dict[str, Any]]:
    out = []
    slugs = [board] if board else sorted({b for b, _ in states.values()} | _board_dirs(ctx))
    for slug in slugs:
        root = boards_svc.workspaces_dir(ctx, slug)
        try:
            entries = [e for e in os.scandir(root) if TASK_ID_RE.match(e.name)
                       and e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            continue
        for e in entries:
            state = states.get(e.name)
            if state is None or state[1] == "archived":
                why = "no longer exists" if state is None else "is archived"
                out.append(_finding("orphan_workspace", slug, e.name,
                                    f"scratch workspace {e.name} left on disk; its task {why}",
                                    "remove it (`kanban doctor --repair`) after copying anything you need",
                                    True))
    return out


def _board_dirs(ctx: Ctx) -> set[str]:
    try:
        return {e.name for e in os.scandir(ctx.home / "boards") if e.is_dir()}
    except FileNotFoundError:
        return set()


def repair(ctx: Ctx, board: str | None = None) -> dict[str, Any]:
    """Fix the repairable findings; returns ``{"repaired": [...], "needs_person": [...]}``."""
    repaired, left = [], []
    for f in diagnose(ctx, board):
        if not f["repairable"]:
            left.append(f)
            continue
        try:
            if f["code"] == "stuck_running":
                runs.reclaim(ctx, f["board"], f["task_id"], actor=DOCTOR,
                             reason="doctor: lease expired and no worker reported")
            elif f["code"] == "tallies_off":
                integrity.recount(ctx)
            elif f["code"] == "orphan_workspace":
                _remove_workspace(ctx, f["board"], f["task_id"])
        except KanbanError as err:  # changed under us (a dispatcher reaped it first): report, go on
            left.append({**f, "message": f"{f['message']} (repair failed: {err})"})
            continue
        repaired.append(f)
    return {"repaired": repaired, "needs_person": left}


def _remove_workspace(ctx: Ctx, board: str, task_id: str) -> None:
    root = boards_svc.workspaces_dir(ctx, board)
    path = root / task_id
    if path.is_symlink() or path.resolve().parent != root.resolve():
        return  # never follow a link out of the managed folder
    shutil.rmtree(path, ignore_errors=True)
    with ctx.store.write() as tx:
        if store_tasks.exists_id(tx.conn, task_id):
            store_events.append(tx, board=board, task_id=task_id, kind=REPAIRED, now=ctx.now(),
                                payload={"what": "removed scratch workspace",
                                         "reason": "doctor: the task is archived"})



