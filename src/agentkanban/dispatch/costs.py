"""The dispatcher's hooks for resumable sessions, usage from logs and budgets.

Small functions the pass calls at fixed points: :func:`plan_launch` before a worker starts,
:func:`settle` for ended attempts whose worker is gone, :func:`hold` before a claim.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from ..config import Profile
from ..domain.models import Task
from ..errors import KanbanError
from ..services import Ctx, budgets, sessions, transitions
from ..services import usage as usage_svc
from . import logs, usage_parse

log = logging.getLogger("agentkanban.dispatch")

_HEADER = re.compile(rb"^=== [^\n]* attempt (\d+) by profile [^\n]*$", re.M)
SEGMENT_MAX = 8 * 1024 * 1024  # an attempt's output read for usage: its last 8 MB at most


def plan_launch(ctx: Ctx, board: str, task: Task, name: str, profile: Profile) -> sessions.Launch:
    """Which command to start; must run before the workspace is (re)created."""
    return sessions.launch_plan(ctx, board, task.id, name, can_resume=profile.resume_command is not None,
                                workspace_exists=os.path.isdir)


def argv_for(profile: Profile, launch: sessions.Launch) -> list[str]:
    return list(profile.resume_command or profile.command) if launch.resume else list(profile.command)


def segment(ctx: Ctx, board: str, task_id: str, run_id: int) -> bytes:
    """What attempt ``run_id`` wrote to the task's log (from its header to the next one)."""
    path = logs.log_path(ctx, board, task_id)
    for candidate in (path, path.with_name(path.name + ".1")):
        try:
            data = candidate.read_bytes()
        except OSError:
            continue
        heads = list(_HEADER.finditer(data))
        for i, m in enumerate(heads):
            if int(m.group(1)) == run_id:
                end = heads[i + 1].start() if i + 1 < len(heads) else len(data)
                return data[max(m.end() + 1, end - SEGMENT_MAX):end]
    return b""


def _entries(parsed: usage_parse.Parsed) -> list[dict[str, Any]]:
    out = []
    for e in parsed.entries:
        try:
            out.append(usage_svc.clean(e.__dict__))
        except KanbanError:
            continue  # an empty or absurd entry is not a bill
    return out


def settle(ctx: Ctx, board: str, busy: set[str]) -> int:
    """Keep the log tail of each ended attempt whose worker is gone, and parse its usage."""
    done = 0
    for row in sessions.unsettled(ctx, board):
        if row["task_id"] in busy:
            continue  # its worker is still writing
        try:
            data = segment(ctx, board, row["task_id"], int(row["run_id"]))
            text = data.decode("utf-8", errors="replace")
            parsed = usage_parse.parse(row["usage_from"], text) if row["usage_from"] in usage_parse.PARSERS \
                else usage_parse.Parsed()
            sessions.settle(ctx, board, int(row["run_id"]), log_tail=text[-sessions.LOG_TAIL:] or None,
                            entries=_entries(parsed), session_id=parsed.session_id,
                            source=row["usage_from"])
            done += 1
        except (KanbanError, OSError) as err:
            log.warning("task %s: could not read attempt %s's log: %s", row["task_id"], row["run_id"], err)
    return done


def block_over_limit(ctx: Ctx, board: str, gate: budgets.Gate, ready: list[Any]) -> list[str]:
    """Block the ready tasks that already spent their own ``max_cost_usd``."""
    blocked = []
    for tid, *_rest in ready:
        reason = gate.over_limit.get(tid)
        if reason is None:
            continue
        try:
            transitions.block(ctx, board, tid, actor=budgets.SYSTEM, reason=reason)
            blocked.append(tid)
        except KanbanError as err:
            log.warning("task %s: could not block at its cost limit: %s", tid, err)
    return blocked
