"""Comments: the conversation on a task, and the handoff channel between agents."""

from __future__ import annotations

from ..domain import events as ev
from ..domain.models import Comment
from ..errors import Forbidden, ValidationError
from ..store import comments as store_comments
from ..store import events as store_events
from ..store import tasks as store_tasks
from .base import Actor, Ctx
from .common import check_worker, load

MAX_COMMENT = 100_000


def add(ctx: Ctx, board: str, task_id: str, body: str, *, actor: Actor,
        author: str | None = None) -> Comment:
    """Add a comment. A worker's comments always carry its profile, never a chosen name."""
    text = (body or "").strip()
    if not text:
        raise ValidationError("comment body cannot be empty")
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"comment is too long (at most {MAX_COMMENT} characters)")
    who = actor.name if actor.is_worker else ((author or "").strip() or actor.name)
    who = who.replace("`", "")[:128]
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        if actor.is_worker:  # a reclaimed attempt speaks no more, on any task
            own = task if task.id == actor.worker_task else store_tasks.get(tx.conn, actor.worker_task or "")
            if own is None:
                raise Forbidden(f"this worker's task {actor.worker_task} no longer exists")
            check_worker(tx.conn, own, actor, "comment as")
        comment = store_comments.add(tx.conn, task.id, who, text, now)
        store_tasks.set_fields(tx.conn, task.id, {"updated_at": now})
        store_events.append(tx, board=board, task_id=task.id, kind=ev.COMMENTED, now=now,
                            payload={"author": who, "len": len(text)})
        return comment
