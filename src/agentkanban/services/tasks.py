"""Creating, editing, reading and listing tasks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import gcpause
from ..config import runner_labels
from ..domain import events as ev
from ..domain.models import TASK_SORTS, WORKSPACE_KINDS, Task, TaskDetail
from ..domain.statuses import PARENT_SATISFIED, Status
from ..errors import Conflict, NotFound, ValidationError
from ..ids import new_task_id
from ..store import comments as store_comments
from ..store import dialect
from ..store import events as store_events
from ..store import links as store_links
from ..store import runners as store_runners
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from ..store import usage as store_usage
from ..store.rows import dumps
from ..store.schema import tasks as t
from . import changes, limits, usage
from .base import Actor, Ctx
from .common import check_worker_creates, clean_assignee, clean_body, clean_title, load, resolve_id


@dataclass(frozen=True)
class Created:
    task: Task
    created: bool  # False when an idempotency key returned an existing task


def parse_workspace(spec: str | None, path: str | None = None) -> tuple[str, str | None]:
    """``scratch``, ``dir:/abs/path`` or ``worktree:/abs/repo`` (or kind + path separately)."""
    kind = (spec or "scratch").strip()
    if ":" in kind:
        kind, path = kind.split(":", 1)
    if kind not in WORKSPACE_KINDS:
        raise ValidationError(f"unknown workspace kind {kind!r}; use scratch, dir:<path> or worktree:<path>")
    if kind == "scratch":
        if path:
            raise ValidationError("a scratch workspace is made by the dispatcher; do not give a path")
        return kind, None
    if not path:
        raise ValidationError(f"workspace {kind!r} needs an absolute path: {kind}:/abs/path")
    if not os.path.isabs(path) or "\x00" in path:
        raise ValidationError(f"workspace path must be absolute, got {path!r}")
    return kind, os.path.normpath(path)


def _clean_skills(skills: list[str] | tuple[str, ...] | None) -> list[str]:
    out = []
    for s in skills or ():
        s = str(s).strip()
        if not s:
            continue
        if "," in s or len(s) > 128:
            raise ValidationError(f"bad skill {s!r}: one name per --skill, no commas")
        out.append(s)
    return out


def _unknown_parent(board: str, ref: str) -> ValidationError:
    # A bad request (400), as in the seed: the parent list is part of the new task's description.
    return ValidationError(f"unknown parent task {ref!r} on board {board!r}")


def _parent_id(ctx: Ctx, board: str, ref: str) -> str:
    try:
        return resolve_id(ctx, board, ref)
    except NotFound:
        raise _unknown_parent(board, ref) from None


def create(
    ctx: Ctx,
    board: str,
    *,
    title: str,
    actor: Actor,
    body: str | None = None,
    assignee: str | None = None,
    parents: list[str] | tuple[str, ...] = (),
    tenant: str | None = None,
    priority: int = 0,
    triage: bool = False,
    idempotency_key: str | None = None,
    max_runtime_seconds: int | None = None,
    max_retries: int | None = None,
    skills: list[str] | None = None,
    workspace: str | None = None,
    workspace_path: str | None = None,
    max_cost_usd: float | None = None,
    goal_mode: bool = False,
    goal_max_turns: int | None = None,
    scheduled_at: float | None = None,
    review_by: str | None = None,
    review_max_rounds: int | None = None,
    requires_approval: bool = False,
    labels: list[str] | None = None,
    due_at: Any = None,
    runs_on: list[str] | None = None,
) -> Created:
    from .board_defaults import workspace_for
    from .goals import clean_goal
    from .review_policy import clean_max_rounds, clean_review_by

    title = clean_title(title)
    body = clean_body(body)
    assignee = clean_assignee(assignee)
    if actor.is_worker and (tenant is None or (workspace is None and workspace_path is None)):
        tenant, workspace = _inherit(ctx, board, actor, tenant, workspace, workspace_path)
    kind, wpath = parse_workspace(*workspace_for(ctx, board, workspace, workspace_path))
    goal = clean_goal(goal_mode, goal_max_turns)
    review = {"review_by": clean_review_by(review_by, assignee),
              "review_max_rounds": clean_max_rounds(review_max_rounds),
              "requires_approval": 1 if requires_approval else 0}
    from .scheduling import check_time

    when = check_time(scheduled_at, ctx.now())
    skill_list = _clean_skills(skills)
    from .due import parse_due
    from .labels import clean_labels

    label_list = clean_labels(labels)
    need = runner_labels(runs_on)
    due = parse_due(due_at)
    key = (idempotency_key or "").strip() or None
    priority = limits.priority(priority)
    max_runtime_seconds = limits.max_runtime(max_runtime_seconds)
    max_retries = limits.max_retries(max_retries)
    tenant = (tenant or "").strip() or None
    cost_cap = None if max_cost_usd is None else usage.clean_limit(max_cost_usd)
    parent_ids = [_parent_id(ctx, board, p) for p in dict.fromkeys(parents)]
    now = ctx.now()
    with ctx.store.write() as tx:
        if actor.is_worker:
            check_worker_creates(tx.conn, board, actor, parent_ids)
        if key:
            dialect.lock_key(tx.conn, "idempotency", board, key)  # two creates with one key: one task
            existing = store_tasks.by_idempotency_key(tx.conn, board, key)
            if existing is not None:
                return Created(existing, False)
        if parent_ids:
            store_tasks.lock_statuses(tx.conn, board)  # the parents' statuses decide the new one
        found = store_tasks.get_many(tx.conn, board, parent_ids)
        missing = [pid for pid in parent_ids if pid not in found]
        if missing:
            raise _unknown_parent(board, missing[0])
        parent_tasks = [found[pid] for pid in parent_ids]
        if triage:
            status = Status.TRIAGE
        elif all(p.status in PARENT_SATISFIED for p in parent_tasks):
            status = Status.READY
        else:
            status = Status.TODO
        if when is not None and when > now:
            status = Status.SCHEDULED  # released to todo when due (services.scheduling)
        task_id = new_task_id()
        while store_tasks.exists_id(tx.conn, task_id):
            task_id = new_task_id()
        values: dict[str, Any] = {
            "id": task_id, "board": board, "title": title, "body": body, "assignee": assignee,
            "status": status.value, "priority": int(priority), "tenant": tenant,
            "created_by": actor.name, "created_at": now, "updated_at": now,
            "workspace_kind": kind, "workspace_path": wpath, "idempotency_key": key,
            "consecutive_failures": 0, "max_runtime_seconds": max_runtime_seconds,
            "max_retries": max_retries, "skills": dumps(skill_list, "skills") if skill_list else None,
            **goal, "scheduled_at": when, **review,
            "labels": dumps(label_list, "labels") if label_list else None, "due_at": due,
        }
        task = store_tasks.insert_task(tx.conn, values)
        store_links.add_parents(tx.conn, parent_ids, task_id)
        if need:
            store_runners.set_runs_on(tx.conn, task_id, need)
        if cost_cap is not None:
            store_usage.set_limit(tx.conn, task_id, cost_cap)
        store_events.append(tx, board=board, task_id=task_id, kind=ev.CREATED, now=now, payload={
            "assignee": assignee, "status": status.value, "parents": parent_ids,
            "tenant": tenant, "skills": skill_list or None,
            **({"labels": label_list} if label_list else {}),
            **({"due_at": int(due)} if due is not None else {}),
            **({"runs_on": need} if need else {}),
        })
    return Created(task, True)


def _inherit(ctx: Ctx, board: str, actor: Actor, tenant: str | None, workspace: str | None,
             workspace_path: str | None) -> tuple[str | None, str | None]:
    """A worker's follow-up task inherits what it does not say from the worker's own task: the
    tenant (``""`` says "none"), and a ``dir`` or ``worktree`` workspace (a scratch one is the
    worker's own and is never shared)."""
    with ctx.store.read() as conn:
        own = store_tasks.get(conn, actor.worker_task or "", board)
    if own is None:
        return tenant, workspace
    if tenant is None:
        tenant = own.tenant
    if workspace is None and workspace_path is None and own.workspace_kind != "scratch" \
            and own.workspace_path:
        workspace = f"{own.workspace_kind}:{own.workspace_path}"
    return tenant, workspace


def edit(ctx: Ctx, board: str, task_id: str, *, title: str | None = None,
         body: str | None = None, result: str | None = None,
         max_cost_usd: float | str | None = None) -> Task:
    """``max_cost_usd``: a positive number sets the task's cost limit, 0 or ``"none"`` clears it."""
    values = changes.edit_values(title, body, result)
    limit = usage.parse_task_limit(max_cost_usd)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        changes.edit_in(tx, board, task, values, now)
        if limit[0]:
            usage.set_task_limit_in_tx(tx, board, task.id, limit[1], now)
        return load(tx.conn, board, task.id)


def reprioritize(ctx: Ctx, board: str, task_id: str, priority: int) -> Task:
    priority = limits.priority(priority)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        changes.reprioritize_in(tx, board, task, priority, now)
        return load(tx.conn, board, task.id)


def assign(ctx: Ctx, board: str, task_id: str, assignee: str | None) -> Task:
    """Change the assignee; refused while a worker runs it. Resets the failure counter."""
    who = clean_assignee(assignee)
    now = ctx.now()
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        changes.assign_in(tx, board, task, who, now)
        return load(tx.conn, board, task.id)


def show(ctx: Ctx, board: str, task_id: str, *, event_limit: int = 50) -> TaskDetail:
    with ctx.store.read() as conn:
        task = load(conn, board, task_id)
        return TaskDetail(
            task=task,
            parents=store_tasks.parent_ids(conn, task.id),
            children=store_tasks.child_ids(conn, task.id),
            comments=store_comments.for_task(conn, task.id),
            events=store_events.for_task(conn, task.id, event_limit),
            runs=store_runs.for_task(conn, task.id),
        )


def get(ctx: Ctx, board: str, task_id: str) -> Task:
    with ctx.store.read() as conn:
        return load(conn, board, task_id)


SORTS: dict[str, list[Any]] = {
    "priority": [t.c.priority.desc(), t.c.created_at, t.c.id],
    "priority-asc": [t.c.priority, t.c.created_at, t.c.id],
    "created": [t.c.created_at, t.c.id],
    "created-desc": [t.c.created_at.desc(), t.c.id],
    "updated": [t.c.updated_at.desc(), t.c.id],
    "status": [t.c.status, t.c.priority.desc(), t.c.created_at],
    "assignee": [t.c.assignee, t.c.priority.desc(), t.c.created_at],
    "title": [t.c.title, t.c.id],
    # Soonest due first; tasks with no due date last (NULLs sort first on SQLite, last on
    # PostgreSQL, so the order says it).
    "due": [t.c.due_at.is_(None), t.c.due_at, t.c.priority.desc(), t.c.created_at, t.c.id],
}
assert tuple(SORTS) == TASK_SORTS, "every sort a list offers has its columns"


def _order(sort: str) -> list[Any]:
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
    return SORTS[sort]


def list_tasks(ctx: Ctx, board: str, *, statuses: list[str] | None = None,
               include_archived: bool = False, assignee: str | None = None,
               tenant: str | None = None, sort: str = "priority",
               limit: int | None = None, label: list[str] | None = None,
               due: str | None = None, attention: bool = False) -> list[Task]:
    """``label``: tasks carrying every one of these; ``due``: see :func:`.filters.where`."""
    from .filters import where

    extra = where(ctx, labels=label, due=due, attention=attention)
    with ctx.store.read() as conn:
        return store_tasks.list_tasks(
            conn, board, statuses=statuses, include_archived=include_archived,
            assignee=clean_assignee(assignee) if assignee else assignee, tenant=tenant,
            order=_order(sort), limit=limit, extra=extra)


def list_json(ctx: Ctx, board: str, *, statuses: list[str] | None = None,
              include_archived: bool = False, assignee: str | None = None,
              tenant: str | None = None, sort: str = "priority",
              limit: int | None = None, label: list[str] | None = None,
              due: str | None = None, attention: bool = False,
              explain: bool = False) -> list[dict[str, Any]]:
    """:func:`list_tasks` in the API's JSON shape (``views.task_json``), built straight from rows;
    with ``explain``, each with ``why`` it is not moving (:mod:`.why`)."""
    now = ctx.now()
    from .filters import where
    from .views import add_age

    extra = where(ctx, labels=label, due=due, attention=attention)
    with gcpause.paused():  # many small dicts, no cycles: see agentkanban.gcpause
        with ctx.store.read() as conn:
            rows = store_tasks.list_task_dicts(
                conn, board, statuses=statuses, include_archived=include_archived,
                assignee=clean_assignee(assignee) if assignee else assignee, tenant=tenant,
                order=_order(sort), limit=limit, extra=extra)
        for d in rows:
            add_age(d, now)
    if explain:
        from .why import explain_all

        explain_all(ctx, board, rows)
    return rows


def delete_archived(ctx: Ctx, board: str, task_ids: list[str]) -> list[str]:
    """Hard-delete archived tasks with their links, comments, runs and events."""
    with ctx.store.write() as tx:
        tasks = [load(tx.conn, board, tid) for tid in task_ids]
        live = [x.id for x in tasks if x.status is not Status.ARCHIVED]
        if live:
            raise Conflict(f"only archived tasks can be deleted; archive first: {', '.join(live)}")
        for x in tasks:
            store_subs.remove_all_for_task(tx.conn, x.id)
        from ..store import attachments as store_att

        atts = store_att.for_tasks(tx.conn, [x.id for x in tasks])
        store_tasks.delete_tasks(tx.conn, [x.id for x in tasks])
    from .attachments import unlink_files

    unlink_files(ctx, atts)  # the rows went with their tasks; now their bytes
    return [x.id for x in tasks]


__all__ = ["Created", "assign", "create", "delete_archived", "edit", "get", "list_json", "list_tasks",
           "parse_workspace", "reprioritize", "resolve_id", "show"]
