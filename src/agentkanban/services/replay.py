"""A worker's terminal verb, repeated, is a no-op that succeeds.

A worker whose ``kanban complete`` committed but whose connection dropped before it heard so
(a database restart) runs the command again. The first call already ended its attempt, so the
repeat would be refused as stale, the worker would exit 1, and a finished task would look
crashed. Instead: the same attempt (run id and token) asking for the same ending its attempt
already had gets the task back unchanged; anything else is judged as before.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ..domain.models import Task
from ..domain.statuses import Status
from ..store import runs as store_runs
from .base import Actor, hash_token


def already_ended(conn: Connection, task: Task, actor: Actor, outcome: str,
                  status: Status | tuple[Status, ...]) -> bool:
    """True when ``actor``'s own attempt already ended ``task`` with ``outcome`` and the task is
    (still) in ``status``, or in one of them."""
    if not actor.is_worker or actor.worker_task != task.id or actor.run_id is None:
        return False
    statuses = status if isinstance(status, tuple) else (status,)
    if not actor.run_token or task.status not in statuses or task.current_run_id == actor.run_id:
        return False
    run = store_runs.get_many(conn, [actor.run_id]).get(actor.run_id)
    if run is None or run.task_id != task.id or run.outcome != outcome:
        return False
    return store_runs.token_hash(conn, run.id) == hash_token(actor.run_token)
