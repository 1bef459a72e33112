"""``status`` in a PATCH body -> the service verb that owns that move (bulk: ``services.bulk``)."""

from __future__ import annotations

from typing import Any

from ..domain.models import Task
from ..domain.statuses import Status
from ..services import moves, tasks, transitions
from ..services.base import Ctx
from .deps import API_ACTOR


def apply_status(ctx: Ctx, board: str, task_id: str, raw: str, *, result: str | None,
                 summary: str | None, metadata: dict[str, Any] | None, reason: str | None) -> Task:
    """done -> complete, blocked -> block, ready -> unblock if blocked else a direct move,
    archived -> archive, todo/triage -> direct move. Nothing here can start a task."""
    status = moves.api_target(raw)
    if status is Status.DONE:
        return transitions.complete(ctx, board, task_id, actor=API_ACTOR, result=result,
                                    summary=summary, metadata=metadata)
    if status is Status.BLOCKED:
        return transitions.block(ctx, board, task_id, actor=API_ACTOR, reason=reason)
    if status is Status.ARCHIVED:
        return transitions.archive(ctx, board, task_id, actor=API_ACTOR)
    if status is Status.READY and tasks.get(ctx, board, task_id).status is Status.BLOCKED:
        return transitions.unblock(ctx, board, task_id, actor=API_ACTOR)
    return transitions.set_status(ctx, board, task_id, status, actor=API_ACTOR)
