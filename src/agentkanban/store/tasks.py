"""Task rows: reads, inserts, compare-and-set status changes, set-based promotion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, insert, literal, or_, select, update

from ..domain.models import Task
from ..domain.statuses import PARENT_SATISFIED, Status
from . import dialect
from .filters import Filters, conditions
from .rows import plain_rows, task_dicts, to_task, to_tasks
from .schema import comments, task_links, tasks

_SATISFIED = [s.value for s in PARENT_SATISFIED]
# Built once: an alias proxies every column, which costs more than the query it is used in.
_PARENT = tasks.alias("p")
_CHILD = tasks.alias("c")


# The statements every write runs are built once, with bind parameters: building a statement
# and computing its cache key costs SQLAlchemy ~70 us per call, three times what SQLite takes to
# run a lookup by primary key. (Bind names differ from column names: SQLAlchemy reserves those
# for the values of an INSERT or UPDATE.)
_BY_ID = select(tasks).where(tasks.c.id == bindparam("b_id"))
_BY_ID_ON_BOARD = _BY_ID.where(tasks.c.board == bindparam("b_board"))
_MANY_ON_BOARD = select(tasks).where(tasks.c.id.in_(bindparam("b_ids", expanding=True)),
                                     tasks.c.board == bindparam("b_board"))
_EXISTS = select(literal(1)).where(tasks.c.id == bindparam("b_id"))
# In a write transaction on PostgreSQL the rows a decision is made on are locked (see
# dialect.locks_rows); many at once in id order, so two writers never wait on each other in a ring.
_BY_ID_LOCKED = _BY_ID.with_for_update()
_BY_ID_ON_BOARD_LOCKED = _BY_ID_ON_BOARD.with_for_update()
_MANY_ON_BOARD_LOCKED = _MANY_ON_BOARD.order_by(tasks.c.id).with_for_update()
_SKIP_IF_LOCKED = (select(tasks.c.id).where(tasks.c.id == bindparam("b_id"))
                   .with_for_update(skip_locked=True))
_INSERT_RETURNING = insert(tasks).returning(*tasks.c)


def get(conn: Connection, task_id: str, board: str | None = None) -> Task | None:
    lock = dialect.locks_rows(conn)
    if board is None:
        row = conn.execute(_BY_ID_LOCKED if lock else _BY_ID, {"b_id": task_id}).first()
    else:
        row = conn.execute(_BY_ID_ON_BOARD_LOCKED if lock else _BY_ID_ON_BOARD,
                           {"b_id": task_id, "b_board": board}).first()
    return to_task(row) if row else None


def lock_unless_taken(conn: Connection, task_id: str) -> bool:
    """For a claim: lock the task's row, or say False at once when another writer holds it
    (``FOR UPDATE SKIP LOCKED``: a second dispatcher moves on instead of queueing behind the first).
    Always True on SQLite, where the transaction already excludes every other writer."""
    if not dialect.locks_rows(conn):
        return True
    return conn.execute(_SKIP_IF_LOCKED, {"b_id": task_id}).first() is not None


def get_many(conn: Connection, board: str, task_ids: list[str]) -> dict[str, Task]:
    """The tasks of ``board`` among ``task_ids``, by id (unknown ids are simply absent)."""
    out: dict[str, Task] = {}
    task_ids = sorted(set(task_ids))
    stmt = _MANY_ON_BOARD_LOCKED if dialect.locks_rows(conn) else _MANY_ON_BOARD
    for i in range(0, len(task_ids), CHUNK):
        rows = conn.execute(stmt, {"b_ids": task_ids[i:i + CHUNK], "b_board": board})
        out.update((t.id, t) for t in to_tasks(rows.all()))
    return out


# Ids per statement when a call takes a list: far below SQLite's 32,766 bound parameters.
CHUNK = 2000
_BRIEF = select(tasks.c.id, tasks.c.title, tasks.c.status).where(
    tasks.c.id.in_(bindparam("b_ids", expanding=True)))
_CAS_MANY = (update(tasks)
             .where(tasks.c.id.in_(bindparam("b_ids", expanding=True)),
                    tasks.c.status == bindparam("b_expected"))
             .returning(tasks.c.id))


def brief_many(conn: Connection, task_ids: list[str]) -> dict[str, tuple[str, str]]:
    """``id -> (title, status)`` for the given tasks (any board)."""
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(task_ids), CHUNK):
        for tid, title, status in conn.execute(_BRIEF, {"b_ids": task_ids[i:i + CHUNK]}):
            out[tid] = (title, status)
    return out


def cas_many(conn: Connection, task_ids: list[str], expected: str, values: dict[str, Any]) -> set[str]:
    """:func:`cas_status` for many tasks that all move from ``expected`` with the same values:
    ``UPDATE ... WHERE id IN (...) AND status = :expected``. Returns the ids it changed."""
    changed: set[str] = set()
    for i in range(0, len(task_ids), CHUNK):
        params = {**values, "b_ids": task_ids[i:i + CHUNK], "b_expected": expected}
        changed.update(conn.execute(_CAS_MANY, params).scalars())
    return changed


def find_by_prefix(conn: Connection, board: str, prefix: str, limit: int = 3) -> list[str]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = (select(tasks.c.id).where(tasks.c.board == board,
                                  tasks.c.id.like(escaped + "%", escape="\\"))
         .order_by(tasks.c.id).limit(limit))
    return list(conn.execute(q).scalars())


def by_idempotency_key(conn: Connection, board: str, key: str) -> Task | None:
    row = conn.execute(
        select(tasks).where(tasks.c.board == board, tasks.c.idempotency_key == key,
                            tasks.c.status != Status.ARCHIVED.value)
    ).first()
    return to_task(row) if row else None


def exists_id(conn: Connection, task_id: str) -> bool:
    return conn.execute(_EXISTS, {"b_id": task_id}).first() is not None


def insert_task(conn: Connection, values: dict[str, Any]) -> Task:
    """Insert a task and return it as stored (defaults filled in). Writers are serialised, so the
    unique idempotency index only fires if something bypassed the check; that surfaces as a
    Conflict from the transaction."""
    return to_task(conn.execute(_INSERT_RETURNING, values).one())


def set_fields(conn: Connection, task_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))


def cas_status(conn: Connection, task_id: str, expected: Status, to: Status,
               values: dict[str, Any]) -> bool:
    """``UPDATE ... WHERE id = :id AND status = :expected``; False when someone else moved first."""
    res = conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == expected.value)
        .values(status=to.value, **values)
    )
    return res.rowcount == 1


def parent_ids(conn: Connection, task_id: str) -> list[str]:
    q = select(task_links.c.parent_id).where(task_links.c.child_id == task_id)
    return sorted(conn.execute(q).scalars())


def child_ids(conn: Connection, task_id: str) -> list[str]:
    q = select(task_links.c.child_id).where(task_links.c.parent_id == task_id)
    return sorted(conn.execute(q).scalars())


def unsatisfied_parents(conn: Connection, task_id: str) -> list[Task]:
    parent = _PARENT
    q = (select(parent).join(task_links, task_links.c.parent_id == parent.c.id)
         .where(task_links.c.child_id == task_id, parent.c.status.not_in(_SATISFIED))
         .order_by(parent.c.id))
    return [to_task(r) for r in conn.execute(q)]


def _blocked_by_parent(child: Any) -> Any:
    parent = _PARENT
    return exists(
        select(literal(1)).select_from(task_links.join(parent, parent.c.id == task_links.c.parent_id))
        .where(task_links.c.child_id == child.c.id, parent.c.status.not_in(_SATISFIED))
    )


def lock_statuses(conn: Connection, board: str) -> None:
    """Changes that look at or change other tasks' statuses (promotion, demotion, a parent check,
    a cycle check) are decided one at a time per board on PostgreSQL; SQLite's writers are one at
    a time anyway. Take it first in the transaction, before any task row is locked.

    Without it two writers can each miss the other's change: completing the two parents of one
    child at once, each sees the other parent still running and nobody promotes the child. With
    it the second waits, and its deciding statements (new snapshots) see the first's commit.
    Writes of one task alone (a heartbeat, a comment, a claim, an edit) do not take it.
    """
    dialect.lock_key(conn, "statuses", board)


def promote_ready(conn: Connection, board: str, now: float) -> list[str]:
    """Move every ``todo`` task of ``board`` whose parents are all done or archived to ``ready``.

    Only ``kanban promote`` runs this (an operator's explicit sweep, parked tasks included): its cost
    grows with the board, so no write path calls it.
    """
    res = conn.execute(
        update(tasks)
        .where(tasks.c.board == board, tasks.c.status == Status.TODO.value,
               ~_blocked_by_parent(tasks))
        .values(status=Status.READY.value, updated_at=now)
        .returning(tasks.c.id)
    )
    return sorted(res.scalars())


_CHILDREN_OF = select(task_links.c.child_id).where(
    task_links.c.parent_id.in_(bindparam("b_parents", expanding=True)))
_PROMOTE_IDS = (
    update(tasks)
    .where(tasks.c.id.in_(bindparam("b_ids", expanding=True)), tasks.c.status == Status.TODO.value,
           ~_blocked_by_parent(tasks))
    .values(status=Status.READY.value, updated_at=bindparam("b_now"))
    .returning(tasks.c.id))


def promote_children(conn: Connection, parent_ids: list[str], now: float) -> list[str]:
    """The ``todo`` children of ``parent_ids`` whose parents are now all done or archived go to
    ``ready`` (compare-and-set UPDATEs on ``status = 'todo'``). Its cost is the number of
    children of those parents, whatever the size of the board."""
    if not parent_ids:
        return []
    # Two statements, each an index lookup on any backend: with the children as a subquery,
    # PostgreSQL may plan the UPDATE as a join over the whole table (100 ms at 100,000 tasks).
    children = list(conn.execute(_CHILDREN_OF, {"b_parents": parent_ids}).scalars())
    return promote_ids(conn, children, now)


def promote_ids(conn: Connection, task_ids: list[str], now: float) -> list[str]:
    """Those of ``task_ids`` that are ``todo`` with every parent done or archived go to ``ready``."""
    return _shift_ids(conn, _PROMOTE_IDS, task_ids, now)


def _shift_ids(conn: Connection, stmt: Any, task_ids: list[str], now: float) -> list[str]:
    out: list[str] = []
    for i in range(0, len(task_ids), CHUNK):
        out += conn.execute(stmt, {"b_ids": task_ids[i:i + CHUNK], "b_now": now}).scalars()
    return sorted(out)


_DEMOTE_IDS = (
    update(tasks)
    .where(tasks.c.id.in_(bindparam("b_ids", expanding=True)), tasks.c.status == Status.READY.value,
           _blocked_by_parent(tasks))
    .values(status=Status.TODO.value, updated_at=bindparam("b_now"))
    .returning(tasks.c.id))


def demote_ready_children(conn: Connection, parent_id: str, now: float) -> list[str]:
    """Children of ``parent_id`` that are ``ready`` but now wait on a parent go back to ``todo``."""
    children = list(conn.execute(_CHILDREN_OF, {"b_parents": [parent_id]}).scalars())
    return _shift_ids(conn, _DEMOTE_IDS, children, now)


def is_ancestor(conn: Connection, candidate: str, of: str) -> bool:
    """True when ``candidate`` is ``of`` or one of its ancestors (walks parent links up)."""
    anc = select(task_links.c.parent_id.label("id")).where(task_links.c.child_id == of).cte(
        "anc", recursive=True)
    anc = anc.union(select(task_links.c.parent_id).where(task_links.c.child_id == anc.c.id))
    if candidate == of:
        return True
    return conn.execute(select(literal(1)).where(anc.c.id == candidate).limit(1)).first() is not None


def _filtered(board: str, *, statuses: list[str] | None = None, include_archived: bool = False,
              assignee: str | None = None, tenant: str | None = None,
              extra: Filters | None = None) -> Any:
    q = select(tasks).where(tasks.c.board == board, *conditions(extra))
    if statuses:
        q = q.where(tasks.c.status.in_(statuses))
    elif not include_archived:
        q = q.where(tasks.c.status != Status.ARCHIVED.value)
    if assignee is not None:
        q = q.where(tasks.c.assignee == assignee) if assignee else q.where(tasks.c.assignee.is_(None))
    if tenant is not None:
        q = q.where(tasks.c.tenant == tenant)
    return q


def _list_query(board: str, *, statuses: list[str] | None, include_archived: bool,
                assignee: str | None, tenant: str | None, order: list[Any] | None,
                limit: int | None, extra: Filters | None = None) -> Any:
    q = _filtered(board, statuses=statuses, include_archived=include_archived, assignee=assignee,
                  tenant=tenant, extra=extra)
    q = q.order_by(*(order or [tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id]))
    return q.limit(limit) if limit is not None else q


def list_tasks(conn: Connection, board: str, *, statuses: list[str] | None = None,
               include_archived: bool = False, assignee: str | None = None,
               tenant: str | None = None, order: list[Any] | None = None,
               limit: int | None = None, extra: Filters | None = None) -> list[Task]:
    q = _list_query(board, statuses=statuses, include_archived=include_archived, assignee=assignee,
                    tenant=tenant, order=order, limit=limit, extra=extra)
    return to_tasks(conn.execute(q).all())


def list_task_dicts(conn: Connection, board: str, *, statuses: list[str] | None = None,
                    include_archived: bool = False, assignee: str | None = None,
                    tenant: str | None = None, order: list[Any] | None = None,
                    limit: int | None = None, extra: Filters | None = None) -> list[dict[str, Any]]:
    """Like :func:`list_tasks`, as plain dicts in the ``Task.to_dict`` shape (``kanban list
    --json``: no domain objects built)."""
    q = _list_query(board, statuses=statuses, include_archived=include_archived, assignee=assignee,
                    tenant=tenant, order=order, limit=limit, extra=extra)
    return task_dicts(conn.execute(q))


def board_rows(conn: Connection, board: str, *, include_archived: bool = False,
               tenant: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and plain row tuples of a board's tasks, unordered (the board sorts each
    column itself, which is cheaper than SQLite sorting the whole wide rows)."""
    return plain_rows(conn.execute(_filtered(board, include_archived=include_archived,
                                             tenant=tenant)))


def board_links(conn: Connection, board: str) -> list[tuple[str, str, str]]:
    """``(parent_id, child_id, child_status)`` of every link on a board (links never cross boards,
    so the child alone scopes them)."""
    child = _CHILD
    q = (select(task_links.c.parent_id, task_links.c.child_id, child.c.status)
         .join(child, child.c.id == task_links.c.child_id)
         .where(child.c.board == board))
    return [(p, c, s) for p, c, s in conn.execute(q).all()]


def comment_counts(conn: Connection, board: str) -> dict[str, int]:
    cq = (select(comments.c.task_id, func.count()).join(tasks, tasks.c.id == comments.c.task_id)
          .where(tasks.c.board == board).group_by(comments.c.task_id))
    return {tid: n for tid, n in conn.execute(cq).all()}


def distinct_values(conn: Connection, board: str, column: str, include_archived: bool = True) -> list[str]:
    col = tasks.c[column]
    q = select(col).distinct().where(tasks.c.board == board, col.is_not(None))
    if not include_archived:
        q = q.where(tasks.c.status != Status.ARCHIVED.value)
    return sorted(conn.execute(q).scalars())


def count_all(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(tasks)).scalar_one())


def counts_by(conn: Connection, board: str, *columns: str) -> list[tuple[Any, ...]]:
    cols = [tasks.c[c] for c in columns]
    q = (select(*cols, func.count()).where(tasks.c.board == board,
                                           tasks.c.status != Status.ARCHIVED.value)
         .group_by(*cols))
    return [tuple(r) for r in conn.execute(q)]


def status_counts_all(conn: Connection) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for board, status, n in conn.execute(
        select(tasks.c.board, tasks.c.status, func.count()).group_by(tasks.c.board, tasks.c.status)
    ):
        out.setdefault(board, {})[status] = n
    return out


def oldest_ready_created(conn: Connection, board: str) -> float | None:
    return conn.execute(
        select(func.min(tasks.c.created_at)).where(tasks.c.board == board,
                                                    tasks.c.status == Status.READY.value)
    ).scalar()


def delete_tasks(conn: Connection, ids: list[str]) -> int:
    if not ids:
        return 0
    res = conn.execute(tasks.delete().where(tasks.c.id.in_(ids)))
    return res.rowcount or 0


def ready_queue(conn: Connection, board: str, *, assignees: list[str] | None = None,
                limit: int | None = None, offset: int = 0) -> list[tuple[str, str | None, bool]]:
    """``(id, assignee, has_failure)`` of unclaimed ready tasks in dispatch order: priority, then age.
    ``assignees``/``limit``/``offset``: a page of the queue of those profiles only (a runner's)."""
    q = (select(tasks.c.id, tasks.c.assignee, tasks.c.last_failure_error.is_not(None))
         .where(tasks.c.board == board, tasks.c.status == Status.READY.value,
                tasks.c.claim_lock.is_(None))
         .order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id))
    if assignees is not None:
        q = q.where(tasks.c.assignee.in_(assignees)).limit(limit).offset(offset)
    return [(r[0], r[1], bool(r[2])) for r in conn.execute(q)]


def awaiting_checks(conn: Connection, board: str) -> list[Task]:
    """Tasks in review waiting for a check's attempt (acceptance or an agent's review), in
    dispatch order."""
    q = (select(tasks).where(tasks.c.board == board, tasks.c.status == Status.REVIEW.value,
                             tasks.c.claim_lock.is_(None),
                             tasks.c.review_stage.in_(("acceptance", "agent")))
         .order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id))
    return to_tasks(conn.execute(q).all())


def unapproved_ready(conn: Connection, board: str, profiles: list[str]) -> dict[str, str | None]:
    """``id -> approval`` of unclaimed ready tasks that wait for a person's approval to start:
    their own ``requires_approval``, or their assignee is one of ``profiles``."""
    needs = tasks.c.requires_approval == 1
    if profiles:
        needs = or_(needs, tasks.c.assignee.in_(profiles))
    q = select(tasks.c.id, tasks.c.approval).where(
        tasks.c.board == board, tasks.c.status == Status.READY.value, tasks.c.claim_lock.is_(None),
        needs, or_(tasks.c.approval.is_(None), tasks.c.approval != "approved"))
    return {r[0]: r[1] for r in conn.execute(q)}


def statuses(conn: Connection, task_ids: list[str]) -> dict[str, tuple[str, float]]:
    """``id -> (status, updated_at)`` for the given tasks."""
    if not task_ids:
        return {}
    q = select(tasks.c.id, tasks.c.status, tasks.c.updated_at).where(tasks.c.id.in_(task_ids))
    return {r[0]: (r[1], r[2]) for r in conn.execute(q)}


def open_children(conn: Connection, parent_ids: list[str]) -> set[str]:
    """Those of ``parent_ids`` that have at least one child not yet done or archived."""
    if not parent_ids:
        return set()
    child = _CHILD
    q = (select(task_links.c.parent_id).distinct()
         .join(child, child.c.id == task_links.c.child_id)
         .where(task_links.c.parent_id.in_(parent_ids), child.c.status.not_in(_SATISFIED)))
    return set(conn.execute(q).scalars())
