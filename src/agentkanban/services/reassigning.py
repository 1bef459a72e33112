"""Bulk reassignment that ends running attempts first (the dashboard's "reclaim first" box).

Each running task among the ids is reclaimed and given to the new assignee in one transaction of
its own (``dispatching.reassign``); then the whole change goes through the ordinary bulk path, for
which those tasks are no longer running. A task that cannot be reclaimed reports its own error and
the others go on.
"""

from __future__ import annotations

from ..domain.models import Task
from ..domain.statuses import Status
from ..errors import KanbanError
from . import bulk, dispatching
from .base import Actor, Ctx
from .common import resolve_id


def apply(ctx: Ctx, board: str, refs: list[str], change: bulk.Change, *,
          actor: Actor) -> tuple[list[bulk.Outcome], list[tuple[int, str]]]:
    """The outcomes, in order, and ``(pid, task_id)`` of each worker whose attempt was ended."""
    from . import tasks

    failed: dict[str, str] = {}
    stopped: list[tuple[int, str]] = []
    for ref in refs:
        try:
            tid = resolve_id(ctx, board, ref)
            if tasks.get(ctx, board, tid).status is Status.RUNNING:
                _task, pid = dispatching.reassign(ctx, board, tid, change.assignee or None,
                                                  actor=actor, reclaim=True)
                if pid:
                    stopped.append((pid, tid))
        except KanbanError as err:
            failed[ref] = err.message
    out = bulk.apply(ctx, board, refs, change, actor=actor)
    return [bulk.Outcome(o.id, failed[ref]) if ref in failed else o
            for ref, o in zip(refs, out, strict=True)], stopped


def reassign_one(ctx: Ctx, board: str, task_id: str, profile: str | None, *, actor: Actor,
                 reclaim_first: bool, reason: str | None) -> tuple[Task, int | None]:
    """``dispatching.reassign`` plus the operator's reason, kept on the task's thread."""
    from . import comments

    task, pid = dispatching.reassign(ctx, board, task_id, profile, actor=actor, reclaim=reclaim_first)
    if reason and reason.strip():
        comments.add(ctx, board, task.id, f"Reassigned to {task.assignee or 'nobody'}: {reason.strip()}",
                     actor=actor)
    return task, pid
