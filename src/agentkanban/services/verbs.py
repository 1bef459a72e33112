"""The worker's verbs as documents: what ``kanban <verb> --json`` prints, local or remote.

Each function takes a task reference (an id or a unique prefix), resolves it, makes the one
service call and returns a JSON-able document. The CLI renders the same document for people,
whether it called the function itself or ``kanban serve`` did (``web/routers/verbs.py``), so
both answer the same by construction.

A worker (an :class:`Actor` with ``worker_task``) reads its own task and its task's parents
only, and creates tasks only under its own task; writing is fenced by :func:`.common.check_worker`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..config import parse_duration
from ..domain.models import Task
from ..errors import Forbidden
from ..store import tasks as store_tasks
from . import comments, runs, tasks, transitions, views
from .base import Actor, Ctx
from .common import check_worker, load, resolve_id

# The verbs that a remote client may call (and a run token may reach).
NAMES = ("show", "context", "heartbeat", "comment", "create", "complete", "block", "session", "usage",
         "approve", "request_changes", "attach")


def _fenced(ctx: Ctx, board: str, actor: Actor, verb: str) -> list[str]:
    """A worker's own task's parents, once :func:`.common.check_worker` says its attempt is
    current (so an ended attempt reads and creates nothing more)."""
    with ctx.store.read() as conn:
        own = load(conn, board, actor.worker_task or "")
        check_worker(conn, own, actor, verb)
        return store_tasks.parent_ids(conn, own.id)


def readable(ctx: Ctx, board: str, ref: str | None, actor: Actor) -> str:
    """The resolved id, if ``actor`` may read it: anyone, or a worker its task and its parents."""
    tid = resolve_id(ctx, board, ref or actor.worker_task or "")
    if actor.is_worker and tid not in [actor.worker_task, *_fenced(ctx, board, actor, "read")]:
        raise Forbidden(f"a worker may only read its own task ({actor.worker_task}) and its "
                        f"parents, not {tid}")
    return tid


def task_doc(ctx: Ctx, task: Task) -> dict[str, Any]:
    return views.task_json(task, ctx.now())


def show(ctx: Ctx, board: str, ref: str | None, *, actor: Actor) -> dict[str, Any]:
    """``show --json``: the task, comments, events, links, runs, context, usage and retry."""
    from . import backoff, runner_work, usage, why
    from . import context as context_svc

    tid = readable(ctx, board, ref, actor)
    detail = tasks.show(ctx, board, tid)
    retry = backoff.waiting(ctx, [tid]).get(tid)
    out: dict[str, Any] = {
        "task": {**task_doc(ctx, detail.task), "why": why.explain_task(ctx, detail.task)},
        "comments": [c.to_dict() for c in detail.comments],
        "events": [e.to_dict() for e in detail.events],
        "links": {"parents": detail.parents, "children": detail.children},
        "runs": [r.to_dict() for r in detail.runs],
        "context": context_svc.build(ctx, board, tid),
        "usage": usage.for_task(ctx, board, tid),
        "retry": retry.to_dict() if retry else None,
        "runs_on": runner_work.runs_on(ctx, tid),
    }
    return out


def context(ctx: Ctx, board: str, ref: str | None, *, actor: Actor) -> dict[str, Any]:
    """``context --json``: ``{task_id, context}``."""
    from . import context as context_svc

    tid = readable(ctx, board, ref, actor)
    return {"task_id": tid, "context": context_svc.build(ctx, board, tid)}


def heartbeat(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, note: str | None = None,
              data: Any = None, progress: Any = None) -> dict[str, Any]:
    """Extend the lease: ``{task_id, claim_expires}``."""
    task = runs.heartbeat(ctx, board, resolve_id(ctx, board, ref or ""), actor=actor, note=note,
                          data=data, progress=progress)
    return {"task_id": task.id, "claim_expires": task.claim_expires}


def comment(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, body: str,
            author: str | None = None) -> dict[str, Any]:
    """Add a comment: ``{id, task_id, author}``."""
    c = comments.add(ctx, board, resolve_id(ctx, board, ref or ""), body, actor=actor, author=author)
    return {"id": c.id, "task_id": c.task_id, "author": c.author}


def create(ctx: Ctx, board: str, *, actor: Actor, title: str, parents: list[str] | None = None,
           notify: list[str] | None = None, max_runtime: str | None = None,
           due: str | None = None, **options: Any) -> dict[str, Any]:
    """``create --json``: ``{task, created[, warning]}``. A worker creates only under its task."""
    from . import health, subs

    parent_ids = [resolve_id(ctx, board, p) for p in parents or []]
    homes = [subs.home_channel(ctx, p.strip().lower()) for p in notify or []]
    created = tasks.create(ctx, board, actor=actor, title=title, parents=parent_ids,
                           max_runtime_seconds=parse_duration(max_runtime) if max_runtime else None,
                           due_at=due, **options)
    task = created.task
    for h in homes:
        subs.subscribe(ctx, board, task.id, platform=h["platform"], chat_id=h["chat_id"],
                       thread_id=h["thread_id"])
    out: dict[str, Any] = {"task": task_doc(ctx, task), "created": created.created}
    if task.status.value == "ready" and task.assignee:
        status = health.dispatcher_status(ctx)
        if status is None or not status["alive"]:
            out["warning"] = "no dispatcher is running: start `kanban serve` or `kanban daemon` to run it"
    return out


def complete(ctx: Ctx, board: str, refs: list[str], *, actor: Actor, summary: str | None = None,
             metadata: str | None = None, result: str | None = None,
             created_cards: list[str] | None = None,
             artifacts: list[str] | None = None) -> dict[str, Any]:
    """``complete --json`` plus each task: ``{completed: [ids], tasks: [task]}``."""
    meta = transitions.parse_metadata(metadata)  # bad JSON fails before anything changes
    ids = [resolve_id(ctx, board, r) for r in refs or [actor.worker_task or ""]]
    done = [transitions.complete(ctx, board, tid, actor=actor, summary=summary, metadata=meta,
                                 result=result, created_cards=list(created_cards or []),
                                 artifacts=list(artifacts or [])) for tid in ids]
    return {"completed": [t.id for t in done], "tasks": [task_doc(ctx, t) for t in done]}


def block(ctx: Ctx, board: str, ref: str | None, *, actor: Actor,
          reason: str | None = None) -> dict[str, Any]:
    """Block the task: ``{task}``."""
    task = transitions.block(ctx, board, resolve_id(ctx, board, ref or ""), actor=actor,
                             reason=reason)
    return {"task": task_doc(ctx, task)}


def session(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, session_id: str) -> dict[str, Any]:
    """Record the agent's session id on the attempt: ``{task_id, run_id, session_id}``."""
    from .sessions import report_session

    return report_session(ctx, board, resolve_id(ctx, board, ref or actor.worker_task or ""),
                          actor=actor, session_id=session_id)


def usage(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, **values: Any) -> dict[str, Any]:
    """Add to the attempt's usage: ``{task_id, run_id, recorded, task_total}``."""
    from .usage import record

    return record(ctx, board, resolve_id(ctx, board, ref or actor.worker_task or ""), actor=actor,
                  source="cli", **values)


def approve(ctx: Ctx, board: str, ref: str | None, *, actor: Actor,
            summary: str | None = None) -> dict[str, Any]:
    """Approve work in review (a reviewer worker during its own review attempt): ``{task}``."""
    from . import review

    return {"task": task_doc(ctx, review.approve(ctx, board, resolve_id(ctx, board, ref or ""),
                                                 actor=actor, summary=summary))}


def request_changes(ctx: Ctx, board: str, ref: str | None, *, actor: Actor,
                    reason: str) -> dict[str, Any]:
    """Send work in review back to its implementer: ``{task}``."""
    from . import review

    return {"task": task_doc(ctx, review.request_changes(ctx, board, resolve_id(ctx, board, ref or ""),
                                                         actor=actor, reason=reason))}


def attach_target(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, filename: str) -> str:
    """The task id a file would be attached to, once the name, the task and the actor's right to
    attach are checked: a remote upload is refused for these before its body is read."""
    from . import attachments

    tid = resolve_id(ctx, board, ref or "")
    attachments.check_target(ctx, board, tid, filename=filename, actor=actor)
    return tid


def attach(ctx: Ctx, board: str, ref: str | None, *, actor: Actor, filename: str,
           chunks: Iterable[bytes]) -> dict[str, Any]:
    """Attach one file to the task: ``{attachment}`` (past ``attachments.max_bytes`` nothing is
    kept). A worker attaches to its own task, during its own attempt."""
    from . import attachments

    tid = resolve_id(ctx, board, ref or "")
    att = attachments.add(ctx, board, tid, filename=filename, chunks=chunks, actor=actor)
    return {"attachment": att.to_dict()}


# The operator's verbs a remote client may also call (a run token never reaches them).
OPERATOR_NAMES = ("list", "move", "assign", "unblock", "archive", "approve_start")


def list_tasks(ctx: Ctx, board: str, *, actor: Actor, mine: bool = False,
               statuses: list[str] | None = None, assignee: str | None = None,
               **query: Any) -> dict[str, Any]:
    """``list --json``: ``{board, tasks}`` (``mine``: the acting worker's profile's tasks)."""
    from ..domain.statuses import parse_status

    wanted = [parse_status(s).value for s in statuses or []] or None
    rows = tasks.list_json(ctx, board, explain=True, statuses=wanted,
                           assignee=actor.name if mine else assignee, **query)
    return {"board": board, "tasks": rows}


def move(ctx: Ctx, board: str, ref: str, *, actor: Actor, status: str) -> dict[str, Any]:
    """A direct move to triage, todo or ready: ``{task}``."""
    task = transitions.set_status(ctx, board, resolve_id(ctx, board, ref), status, actor=actor)
    return {"task": task_doc(ctx, task)}


def assign(ctx: Ctx, board: str, ref: str, *, actor: Actor, profile: str) -> dict[str, Any]:
    """Assign to a profile (``none``, ``-`` or empty unassigns): ``{task}``."""
    who = None if profile.lower() in {"none", "-", ""} else profile
    return {"task": task_doc(ctx, tasks.assign(ctx, board, resolve_id(ctx, board, ref), who))}


def unblock(ctx: Ctx, board: str, ref: str, *, actor: Actor) -> dict[str, Any]:
    """Blocked -> ready (or todo while a parent is not done): ``{task}``."""
    return {"task": task_doc(ctx, transitions.unblock(ctx, board, resolve_id(ctx, board, ref),
                                                      actor=actor))}


def archive(ctx: Ctx, board: str, refs: list[str], *, actor: Actor,
            hard: bool = False) -> dict[str, Any]:
    """Archive one task (``{task}``), or with ``hard`` delete archived ones (``{deleted}``)."""
    ids = [resolve_id(ctx, board, r) for r in refs]
    if hard:
        return {"deleted": tasks.delete_archived(ctx, board, ids)}
    (tid,) = ids
    return {"task": task_doc(ctx, transitions.archive(ctx, board, tid, actor=actor))}


def approve_start(ctx: Ctx, board: str, ref: str, *, actor: Actor) -> dict[str, Any]:
    """Let the dispatcher start a task that waits for a person's approval: ``{task}``."""
    from . import review

    return {"task": task_doc(ctx, review.approve_start(ctx, board, resolve_id(ctx, board, ref),
                                                       actor=actor))}
