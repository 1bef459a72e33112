"""Parent -> child dependencies: the child waits until every parent is done."""

from __future__ import annotations

from ..domain import events as ev
from ..domain.models import Task
from ..domain.statuses import PARENT_SATISFIED
from ..errors import NotFound, ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import links as store_links
from ..store import tasks as store_tasks
from .base import Actor, Ctx
from .common import check_worker_links, demote_children, promote_tasks, resolve_in


def link(ctx: Ctx, board: str, parent_id: str, child_id: str, *, actor: Actor | None = None) -> bool:
    """Add a link; a ready child whose new parent is not done goes back to todo. A worker
    (``actor``) links only within its own task's family."""
    now = ctx.now()
    with ctx.store.write() as tx:
        # Two links made at once could each pass the cycle check and together close a cycle.
        store_tasks.lock_statuses(tx.conn, board)
        parent = _known(tx, board, parent_id, "parent")
        child = _known(tx, board, child_id, "child")
        if actor is not None and actor.is_worker:
            check_worker_links(tx.conn, board, actor, [parent.id, child.id])
        if parent.id == child.id:
            raise ValidationError(f"a task cannot depend on itself ({parent.id})")
        if store_tasks.is_ancestor(tx.conn, child.id, parent.id):
            raise ValidationError(
                f"linking {parent.id} -> {child.id} would make a cycle ({child.id} already "
                f"comes before {parent.id})")
        if not store_links.add(tx.conn, parent.id, child.id):
            return False
        store_events.append(tx, board=board, task_id=child.id, kind=ev.LINKED, now=now,
                            payload={"parent": parent.id, "child": child.id})
        demote_children(tx, board, parent.id, now, "new_parent")
        return True


def _known(tx: Tx, board: str, task_id: str, role: str) -> Task:
    """A link names two tasks of the board; an unknown one is a bad request (400), as in the seed."""
    try:
        task = store_tasks.get(tx.conn, resolve_in(tx.conn, board, task_id), board)
    except NotFound:
        task = None
    if task is None:
        raise ValidationError(f"unknown {role} task {task_id!r} on board {board!r}")
    return task


def unlink(ctx: Ctx, board: str, parent_id: str, child_id: str) -> bool:
    """Remove a link; a child that was waiting on that parent and on nothing else is promoted.
    False when there was no such link (unknown tasks included)."""
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        try:
            parent, child = _known(tx, board, parent_id, "parent"), _known(tx, board, child_id, "child")
        except ValidationError:
            return False
        if not store_links.remove(tx.conn, parent.id, child.id):
            return False
        store_events.append(tx, board=board, task_id=child.id, kind=ev.UNLINKED, now=now,
                            payload={"parent": parent.id, "child": child.id})
        if parent.status not in PARENT_SATISFIED:
            promote_tasks(tx, board, [child.id], now)
        return True
