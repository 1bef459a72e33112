"""Put tasks into a given status through the services (never raw SQL)."""

from __future__ import annotations

from agentkanban.domain.models import Task
from agentkanban.domain.statuses import Status
from agentkanban.services import Actor, Ctx, runs, tasks, transitions
from agentkanban.services.runs import Claim

BOARD = "default"


def claim(ctx: Ctx, task_id: str, profile: str = "coder") -> Claim:
    c = runs.claim(ctx, BOARD, task_id, profile=profile, lock="test:1", ttl=900)
    assert c is not None
    return c


def worker_actor(c: Claim, profile: str = "coder") -> Actor:
    return Actor(profile, worker_task=c.task.id, run_id=c.run_id, run_token=c.token)


def make(ctx: Ctx, status: Status, title: str = "task", **kw: object) -> Task:
    user = Actor("user")
    if status is Status.TRIAGE:
        return tasks.create(ctx, BOARD, title=title, actor=user, triage=True, **kw).task  # type: ignore[arg-type]
    if status is Status.SCHEDULED:
        return tasks.create(ctx, BOARD, title=title, actor=user, assignee="coder",  # type: ignore[arg-type]
                            scheduled_at=ctx.now() + 3600, **kw).task
    if status is Status.REVIEW:  # waiting for a person's review
        kw = {"review_by": "human", **kw}
    t = tasks.create(ctx, BOARD, title=title, actor=user, assignee="coder", **kw).task  # type: ignore[arg-type]
    if status is Status.REVIEW:
        c = claim(ctx, t.id)
        return transitions.complete(ctx, BOARD, t.id, actor=worker_actor(c), summary="for review")
    if status is Status.READY:
        return t
    if status is Status.TODO:
        return transitions.set_status(ctx, BOARD, t.id, "todo", actor=user)
    if status is Status.RUNNING:
        return claim(ctx, t.id).task
    if status is Status.BLOCKED:
        return transitions.block(ctx, BOARD, t.id, actor=user, reason="waiting")
    if status is Status.DONE:
        return transitions.complete(ctx, BOARD, t.id, actor=user, summary="done")
    assert status is Status.ARCHIVED
    return transitions.archive(ctx, BOARD, t.id, actor=user)
