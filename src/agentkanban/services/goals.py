"""Goal mode: a task the worker pursues over several turns, at most ``goal_max_turns`` of them.

Stored on the task, shown on the card, and handed to the worker as ``KANBAN_GOAL_MODE`` (``1`` or
``0``) and ``KANBAN_GOAL_MAX_TURNS`` and as the ``{goal_mode}`` and ``{goal_max_turns}`` placeholders
of a profile's command, so the profile decides what goal mode means for its agent.
"""

from __future__ import annotations

from typing import Any

from ..domain import events as ev
from ..domain.models import Task
from ..errors import ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import tasks as store_tasks
from .base import Ctx
from .common import load


def clean_goal(goal_mode: bool, goal_max_turns: int | None) -> dict[str, Any]:
    if goal_max_turns is not None and goal_max_turns < 1:
        raise ValidationError("goal_max_turns must be at least 1")
    if goal_max_turns is not None and not goal_mode:
        raise ValidationError("goal_max_turns needs goal_mode")
    return {"goal_mode": 1 if goal_mode else 0, "goal_max_turns": goal_max_turns if goal_mode else None}


def set_goal(ctx: Ctx, board: str, task_id: str, *, goal_mode: bool | None,
             goal_max_turns: int | None) -> Task:
    """Change goal mode; ``goal_max_turns`` 0 clears the limit, None leaves it."""
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        set_goal_in(tx, board, task, goal_mode, goal_max_turns, now)
        return load(tx.conn, board, task.id)


def set_goal_in(tx: Tx, board: str, task: Task, goal_mode: bool | None, goal_max_turns: int | None,
                now: float) -> None:
    """:func:`set_goal` inside a transaction the caller holds (``PATCH`` applies it with the rest)."""
    mode = task.goal_mode if goal_mode is None else goal_mode
    turns = task.goal_max_turns if goal_max_turns is None else (goal_max_turns or None)
    values = clean_goal(mode, turns if mode else None)
    if (bool(values["goal_mode"]), values["goal_max_turns"]) != (task.goal_mode, task.goal_max_turns):
        store_tasks.set_fields(tx.conn, task.id, {**values, "updated_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.EDITED, now=now,
                            payload={"fields": ["goal_max_turns", "goal_mode"]})


def worker_env(task: Task) -> dict[str, str]:
    return {"KANBAN_GOAL_MODE": "1" if task.goal_mode else "0",
            "KANBAN_GOAL_MAX_TURNS": str(task.goal_max_turns or "")}


def placeholders(task: Task) -> dict[str, str]:
    return {"goal_mode": "1" if task.goal_mode else "0", "goal_max_turns": str(task.goal_max_turns or "")}
