"""Deleting a task for good (the dashboard's trash zone and bulk Delete).

What deleting means: the task row and everything that hangs off it (comments, runs, events, links,
chat subscriptions and pending deliveries, attachments with their files) are removed in one
transaction. A running task is refused (reclaim it first) so no worker is left reporting to a task
that is gone. Children that waited only on the deleted task lose that dependency and are promoted
like any other task whose parents are satisfied. The task is found by id on any board, because
the reference client sends no board with a delete.
"""

from __future__ import annotations

from typing import Any

from ..domain.statuses import Status
from ..errors import Conflict, NotFound
from ..store import attachments as store_att
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from .attachments import unlink_files
from .base import Actor, Ctx
from .common import check_worker, promote


def find_board(ctx: Ctx, task_id: str) -> str:
    """The board a task id lives on, whatever board is current."""
    with ctx.store.read() as conn:
        task = store_tasks.get(conn, task_id.strip())
    if task is None:
        raise NotFound(f"no task {task_id!r} on any board")
    return task.board


def delete_task(ctx: Ctx, task_id: str, *, actor: Actor) -> dict[str, Any]:
    now = ctx.now()
    with ctx.store.write() as tx:
        task = store_tasks.get(tx.conn, task_id.strip())
        if task is None:
            raise NotFound(f"no task {task_id!r} on any board")
        check_worker(tx.conn, task, actor, "delete")
        if task.status is Status.RUNNING:
            raise Conflict(f"task {task.id} is running; reclaim it first (its worker would be left "
                           "reporting to a task that no longer exists)")
        atts = store_att.for_task(tx.conn, task.id)
        children = store_tasks.child_ids(tx.conn, task.id)
        store_subs.remove_all_for_task(tx.conn, task.id)
        store_tasks.delete_tasks(tx.conn, [task.id])
        promoted = promote(tx, task.board, now) if children else []
    unlink_files(ctx, atts)
    return {"ok": True, "id": task.id, "board": task.board, "deleted": True,
            "attachments_removed": len(atts), "promoted": promoted}
