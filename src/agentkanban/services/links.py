"""Parent -> child dependencies: the child waits until every parent is done."""

from __future__ import annotations

from ..domain import events as ev
from ..domain.statuses import PARENT_SATISFIED
from ..errors import ValidationError
from ..store import events as store_events
from ..store import links as store_links
from ..store import tasks as store_tasks
from .base import Ctx
from .common import demote_children, load, promote_tasks


def link(ctx: Ctx, board: str, parent_id: str, child_id: str) -> bool:
    """Add a link; a ready child whose new parent is not done goes back to todo."""
    if parent_id == child_id:
        raise ValidationError(f"a task cannot depend on itself ({parent_id})")
    now = ctx.now()
    with ctx.store.write() as tx:
        parent = load(tx.conn, board, parent_id)
        child = load(tx.conn, board, child_id)
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


def unlink(ctx: Ctx, board: str, parent_id: str, child_id: str) -> bool:
    """Remove a link; a child that was waiting on that parent and on nothing else is promoted."""
    now = ctx.now()
    with ctx.store.write() as tx:
        parent = load(tx.conn, board, parent_id)
        child = load(tx.conn, board, child_id)
        if not store_links.remove(tx.conn, parent.id, child.id):
            return False
        store_events.append(tx, board=board, task_id=child.id, kind=ev.UNLINKED, now=now,
                            payload={"parent": parent.id, "child": child.id})
        if parent.status not in PARENT_SATISFIED:
            promote_tasks(tx, board, [child.id], now)
        return True
