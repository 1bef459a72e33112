"""Specify, decompose and describe-auto: jobs for the configured orchestrator profile.

The reference calls a language model from the server. Ours stays agent-agnostic: the server files
a job task on the board, assigned to ``orchestrator_profile``, whose body carries the context (the
triage task, the profile roster) and the answer expected. The dispatcher runs the profile like any
worker; the worker answers with the ordinary verb, ``kanban complete --metadata '{...}'``:

- specify: ``{"title": "...", "body": "..."}``: the triage task is rewritten and moved to todo.
- decompose: ``{"children": [{"title", "body", "assignee", "parents": [indexes]}]}``: the children
  are created, the triage task waits for them (it becomes ready when they are all done) and moves
  to todo. An empty list is a single task: like specify (``title``/``body`` are applied if given).
- describe: ``{"description": "..."}``: stored as the profile's description (``description_auto``).

The caller waits a bounded time (``wait`` seconds). A job still running then is not lost: asking
again collects it (the job task is found by its idempotency key), and a finished job is archived
once applied. ``kanban block`` from the worker is a refusal: its reason is the answer's reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ..domain.statuses import Status
from ..errors import Conflict, KanbanError, ValidationError
from ..store import runs as store_runs
from . import links, orchestration, tasks, transitions
from .base import Actor, Ctx

ORCHESTRATOR = Actor(name="orchestrator")
DEFAULT_WAIT = 120.0
POLL = 0.25


def _outcome(ok: bool, reason: str, **extra: Any) -> dict[str, Any]:
    return {"ok": ok, "reason": reason, **extra}


def _not_configured(ctx: Ctx) -> str | None:
    s = orchestration.get_settings(ctx)
    if s["resolved_orchestrator_profile"]:
        return None
    if s["orchestrator_profile"]:
        return (f"the orchestrator profile {s['orchestrator_profile']!r} is not configured; add it under "
                "profiles: in config.yaml or pick another in the orchestration settings")
    return ("no orchestrator profile is set: add a profile under profiles: in config.yaml (any command "
            "that reads `kanban context` and answers with `kanban complete --metadata`), then choose "
            "it as the orchestrator profile in the orchestration settings (PUT /orchestration)")


def _roster_text(ctx: Ctx) -> str:
    lines = [f"- {p['name']}: {p['description'] or '(no description)'}" for p in orchestration.roster(ctx)]
    return "\n".join(lines) or "(no profiles configured)"


CONTRACTS = {
    "specify": 'kanban complete --metadata \'{"title": "<concrete title>", "body": "<spec: goal, '
               'approach, acceptance criteria>"}\'',
    "decompose": 'kanban complete --metadata \'{"children": [{"title": "...", "body": "...", '
                 '"assignee": "<profile>", "parents": [<index of a sibling it waits for>]}]}\' '
                 '(an empty list keeps it one task; add "title"/"body" to rewrite it)',
    "describe": 'kanban complete --metadata \'{"description": "<what this profile is good at, for routing>"}\'',
}


def _job_body(ctx: Ctx, kind: str, subject: str, text: str | None) -> str:
    return "\n".join([
        f"Orchestration job: {kind}.", "", f"## Subject: {subject}", text or "(no body)", "",
        "## Profiles", _roster_text(ctx), "", "## Answer with", CONTRACTS[kind],
        "or `kanban block --reason '...'` to refuse.", ""])


def _run(ctx: Ctx, board: str, kind: str, key: str, title: str, body: str, wait: float,
         apply: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    profile = orchestration.get_settings(ctx)["resolved_orchestrator_profile"]
    job = tasks.create(ctx, board, title=title, body=body, actor=ORCHESTRATOR, assignee=profile,
                       idempotency_key=key, priority=1000).task
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        job = tasks.get(ctx, board, job.id)
        if job.status in (Status.DONE, Status.BLOCKED, Status.ARCHIVED):
            break
        if time.monotonic() >= deadline:
            return _outcome(False, f"the orchestrator ({profile}) is still working on it (job task "
                                   f"{job.id}); ask again later to collect its answer", job_id=job.id)
        time.sleep(POLL)
    try:
        if job.status is not Status.DONE:
            return _outcome(False, f"the orchestrator refused: {job.last_failure_error or 'blocked'}",
                            job_id=job.id)
        with ctx.store.read() as conn:
            run = store_runs.latest_completed(conn, [job.id]).get(job.id)
        meta = (run.metadata if run else None) or _parse(job.result)
        return {**apply(meta), "job_id": job.id}
    except KanbanError as err:
        return _outcome(False, f"the orchestrator's answer could not be applied: {err.message}",
                        job_id=job.id)
    finally:
        if job.status is not Status.ARCHIVED:
            transitions.archive(ctx, board, job.id, actor=ORCHESTRATOR)


def _parse(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _triage_task(ctx: Ctx, board: str, task_id: str) -> Any:
    task = tasks.get(ctx, board, task_id)
    if task.status is not Status.TRIAGE:
        raise ValidationError(f"task {task.id} is {task.status.value}, not triage")
    return task


def _rewrite(ctx: Ctx, board: str, task_id: str, meta: dict[str, Any]) -> str | None:
    title, body = meta.get("title"), meta.get("body")
    title = title if isinstance(title, str) and title.strip() else None
    body = body if isinstance(body, str) and body.strip() else None
    if title or body:
        tasks.edit(ctx, board, task_id, title=title, body=body)
    return title


def specify(ctx: Ctx, board: str, task_id: str, *, wait: float = DEFAULT_WAIT) -> dict[str, Any]:
    missing = _not_configured(ctx)
    try:
        task = _triage_task(ctx, board, task_id)
    except KanbanError as err:
        return _outcome(False, err.message, task_id=task_id, new_title=None)
    if missing:
        return _outcome(False, missing, task_id=task.id, new_title=None)

    def apply(meta: dict[str, Any]) -> dict[str, Any]:
        if not (meta.get("title") or meta.get("body")):
            return _outcome(False, "the orchestrator answered without a title or body",
                            task_id=task.id, new_title=None)
        new_title = _rewrite(ctx, board, task.id, meta)
        # Out of triage: ready when nothing holds it back, else it waits in todo for its parents.
        try:
            transitions.set_status(ctx, board, task.id, Status.READY, actor=ORCHESTRATOR)
        except Conflict:
            transitions.set_status(ctx, board, task.id, Status.TODO, actor=ORCHESTRATOR)
        return _outcome(True, "specified", task_id=task.id, new_title=new_title)

    return {"task_id": task.id, "new_title": None, **_run(
        ctx, board, "specify", f"orchestrate:specify:{task.id}", f"Specify {task.id}: {task.title}",
        _job_body(ctx, "specify", f"{task.id}: {task.title}", task.body), wait, apply)}


def decompose(ctx: Ctx, board: str, task_id: str, *, wait: float = DEFAULT_WAIT) -> dict[str, Any]:
    base = {"fanout": False, "child_ids": [], "new_title": None}
    missing = _not_configured(ctx)
    try:
        task = _triage_task(ctx, board, task_id)
    except KanbanError as err:
        return {**base, **_outcome(False, err.message, task_id=task_id)}
    if missing:
        return {**base, **_outcome(False, missing, task_id=task.id)}

    def apply(meta: dict[str, Any]) -> dict[str, Any]:
        children = meta.get("children") or []
        if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
            return {**base, **_outcome(False, "children must be a list of objects", task_id=task.id)}
        new_title = _rewrite(ctx, board, task.id, meta)
        ids = _create_children(ctx, board, task.id, children)
        transitions.set_status(ctx, board, task.id, Status.TODO, actor=ORCHESTRATOR)
        reason = f"decomposed into {len(ids)} children" if ids else "kept as a single task"
        return _outcome(True, reason, task_id=task.id, fanout=bool(ids), child_ids=ids,
                        new_title=new_title)

    return {**base, "task_id": task.id, **_run(
        ctx, board, "decompose", f"orchestrate:decompose:{task.id}",
        f"Decompose {task.id}: {task.title}",
        _job_body(ctx, "decompose", f"{task.id}: {task.title}", task.body), wait, apply)}


def _create_children(ctx: Ctx, board: str, root: str, children: list[dict[str, Any]]) -> list[str]:
    settings = orchestration.get_settings(ctx)
    known = {p.lower(): p for p in ctx.settings.profiles}
    ids: list[str] = []
    for i, c in enumerate(children):
        title = c.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(f"child {i} has no title")
        parents = [ids[p] for p in c.get("parents") or [] if isinstance(p, int) and 0 <= p < len(ids)]
        wanted = str(c.get("assignee") or "").strip().lower()
        assignee = known.get(wanted) or settings["resolved_default_assignee"] or None
        body = c.get("body") if isinstance(c.get("body"), str) else None
        ids.append(tasks.create(ctx, board, title=title, body=body, actor=ORCHESTRATOR,
                                assignee=assignee, parents=parents).task.id)
    for cid in ids:  # the root waits for every child and wakes when they are all done
        links.link(ctx, board, cid, root)
    return ids


def describe_auto(ctx: Ctx, board: str, name: str, *, overwrite: bool,
                  wait: float = DEFAULT_WAIT) -> dict[str, Any]:
    profile = orchestration.profile_name(ctx, name)
    current = next(p for p in orchestration.roster(ctx) if p["name"] == profile)
    if current["description"] and not overwrite:
        return _outcome(False, f"{profile} already has a description; ask with overwrite to replace it",
                        profile=current)
    missing = _not_configured(ctx)
    if missing:
        return _outcome(False, missing, profile=current)
    command = " ".join(ctx.settings.profiles[profile].command)

    def apply(meta: dict[str, Any]) -> dict[str, Any]:
        text = meta.get("description")
        if not isinstance(text, str) or not text.strip():
            return _outcome(False, "the orchestrator answered without a description", profile=current)
        return _outcome(True, "described", profile=orchestration.describe(ctx, profile, text, auto=True))

    return _run(ctx, board, "describe", f"orchestrate:describe:{profile}", f"Describe profile {profile}",
                _job_body(ctx, "describe", f"profile {profile}", f"Command: {command}"), wait, apply)
