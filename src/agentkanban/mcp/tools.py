"""The ``kanban_*`` tools: parse the arguments, call one service, shape the answer.

Ownership and fencing are not checked here: the services refuse a worker that acts on another
task or on an attempt that is no longer current, exactly as they do for the CLI.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from ..config import Settings
from ..domain.models import Task
from ..domain.statuses import parse_status
from ..errors import KanbanError, UnknownCards, ValidationError
from ..services import (
    Actor,
    Ctx,
    boards,
    comments,
    graph,
    links,
    review,
    runs,
    sessions,
    subs,
    tasks,
    transitions,
    usage,
    verbs,
)
from ..services import context as worker_context
from ..services.common import resolve_id
from ..services.views import task_json
from .shape import fail, from_error, ok, redact, redact_json

log = logging.getLogger("agentkanban.mcp")

LIST_DEFAULT = 50
LIST_MAX = 200
BLOCK_KINDS = ("dependency", "needs_input", "capability", "transient")

TaskRef = Annotated[str | None, Field(description="Task id or unique prefix; defaults to your own task "
                                                  "inside a worker.")]
Board = Annotated[str | None, Field(description="Board slug; defaults to the current board.")]


def guarded(fn: Callable[..., CallToolResult]) -> Callable[..., CallToolResult]:
    """Every failure becomes an error result; nothing a tool does can take the server down.
    A call that failed on a transient database error runs again under the services' retry
    policy (a tool is one service call, and a worker's terminal verbs are idempotent)."""

    @functools.wraps(fn)
    def wrapper(self: Toolset, *args: Any, **kwargs: Any) -> CallToolResult:
        try:
            return self.ctx.retry.run(lambda: fn(self, *args, **kwargs))
        except KanbanError as err:
            return from_error(err)
        except Exception as err:  # a bug or an outage: report it, keep serving
            log.exception("tool %s failed", fn.__name__)
            return fail("InternalError", f"the board could not complete this call ({type(err).__name__}); "
                        "retry once, then block the task with the error", retryable=True)

    return wrapper


def _compact(task: Task, edges: dict[str, list[str]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": task.id, "title": task.title, "status": task.status.value, "assignee": task.assignee,
           "priority": task.priority, "tenant": task.tenant, "created_by": task.created_by}
    if edges is not None:
        row.update(parents=edges["parents"], children=edges["children"])
    return row


class Toolset:
    """The tools bound to one board store and one caller (a worker or an orchestrator)."""

    def __init__(self, ctx: Ctx, settings: Settings, *, local_files: bool = True) -> None:
        self.ctx = ctx
        self.settings = settings
        # Whether a path names a file of the caller's own machine: not over HTTP, where this
        # process runs on the board's host and would read its files instead.
        self.local_files = local_files
        self.actor = Actor.from_settings(settings, default="orchestrator")

    # -- argument helpers ------------------------------------------------------------------

    def _board(self, board: str | None) -> str:
        return boards.resolve(self.ctx, board or self.settings.board)

    def _task(self, board: str, ref: str | None) -> str:
        if not (ref or "").strip():
            if self.actor.worker_task is None:
                raise ValidationError("task_id is required (this server is not running inside a worker)")
            ref = self.actor.worker_task
        return resolve_id(self.ctx, board, str(ref))

    def _required(self, board: str, ref: str | None, name: str) -> str:
        if not (ref or "").strip():
            raise ValidationError(f"{name} is required")
        return resolve_id(self.ctx, board, str(ref))

    # -- reading ---------------------------------------------------------------------------

    @guarded
    def kanban_show(self, task_id: TaskRef = None, board: Board = None) -> CallToolResult:
        slug = self._board(board)
        tid = verbs.readable(self.ctx, slug, self._task(slug, task_id), self.actor)
        detail = tasks.show(self.ctx, slug, tid)
        return ok(
            board=slug,
            task=task_json(detail.task, self.ctx.now()),
            parents=detail.parents,
            children=detail.children,
            comments=[c.to_dict() for c in detail.comments],
            events=[e.to_dict() for e in detail.events],
            runs=[r.to_dict() for r in detail.runs],
            worker_context=worker_context.build(self.ctx, slug, tid),
        )

    @guarded
    def kanban_list(
        self,
        status: Annotated[str | list[str] | None, Field(
            description="Status or list of statuses (triage, todo, ready, running, blocked, done, "
                        "archived); comma-separated works too.")] = None,
        assignee: Annotated[str | None, Field(description="Only tasks of this profile.")] = None,
        tenant: Annotated[str | None, Field(description="Only tasks of this tenant.")] = None,
        include_archived: bool = False,
        limit: Annotated[int, Field(description=f"At most {LIST_MAX}.")] = LIST_DEFAULT,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        raw = status if isinstance(status, list) else (status or "").split(",")
        statuses = [parse_status(s).value for s in raw if str(s).strip()] or None
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        limit = min(limit, LIST_MAX)
        found = tasks.list_tasks(self.ctx, slug, statuses=statuses, assignee=assignee, tenant=tenant,
                                 include_archived=include_archived or "archived" in (statuses or ()),
                                 limit=limit + 1)
        truncated = len(found) > limit
        found = found[:limit]
        edges = graph.edges(self.ctx, [t.id for t in found])
        return ok(board=slug, tasks=[_compact(t, edges[t.id]) for t in found], count=len(found),
                  truncated=truncated,
                  next_limit=min(limit * 2, LIST_MAX) if truncated and limit < LIST_MAX else None)

    # -- a worker's verbs ------------------------------------------------------------------

    @guarded
    def kanban_heartbeat(
        self,
        task_id: TaskRef = None,
        note: Annotated[str | None, Field(description="What you are doing now (one line).")] = None,
        data: Annotated[Any, Field(description="Checkpoint: where you are, as JSON (a retry sees "
                                               "the latest).")] = None,
        progress: Annotated[str | None, Field(description="Steps done of the total, as DONE/TOTAL "
                                                          "(\"3/12\"): a progress bar on the card.")] = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        if isinstance(data, str):  # JSON given as text
            sessions.clean_data(data)  # refuses text that is not JSON
            data = json.loads(data)
        task = runs.heartbeat(self.ctx, slug, tid, actor=self.actor, note=redact(note),
                              data=redact_json(data), progress=progress)
        return ok(task_id=task.id, status=task.status.value, claim_expires=task.claim_expires,
                  last_heartbeat_at=task.last_heartbeat_at)

    @guarded
    def kanban_session(
        self,
        session_id: Annotated[str, Field(description="Your agent session id (a retry resumes it).")],
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        out = sessions.report_session(self.ctx, slug, self._task(slug, task_id), actor=self.actor,
                                      session_id=session_id)
        return ok(**out)

    @guarded
    def kanban_usage(
        self,
        input_tokens: Annotated[int | None, Field(description="Input tokens not read from cache.")] = None,
        output_tokens: Annotated[int | None, Field(description="Output tokens.")] = None,
        cache_read_tokens: Annotated[int | None, Field(description="Input tokens read from cache.")] = None,
        cache_write_tokens: Annotated[int | None, Field(description="Input tokens written to cache.")] = None,
        cost_usd: Annotated[float | None, Field(description="Dollars, if your agent reports them.")] = None,
        model: Annotated[str | None, Field(description="Model name.")] = None,
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        out = usage.record(self.ctx, slug, self._task(slug, task_id), actor=self.actor, source="mcp",
                           input_tokens=input_tokens, output_tokens=output_tokens,
                           cache_read_tokens=cache_read_tokens, cache_write_tokens=cache_write_tokens,
                           cost_usd=cost_usd, model=model)
        return ok(**out)

    @guarded
    def kanban_complete(
        self,
        summary: Annotated[str | None, Field(
            description="What you did and what the next task needs to know (required unless "
                        "result is given).")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(
            description='Structured handoff for dependent tasks, e.g. {"files": [...], '
                        '"tests": "passed"}.')] = None,
        result: Annotated[str | None, Field(description="The deliverable itself, if it is text.")] = None,
        created_cards: Annotated[list[str] | None, Field(
            description="Ids of tasks you created with kanban_create; each is checked.")] = None,
        artifacts: Annotated[list[str] | None, Field(
            description="Paths or URLs of what you produced; merged into metadata.artifacts.")] = None,
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        if not (summary or "").strip() and not (result or "").strip():
            raise ValidationError("give a summary of what you did (or a result) so the next task can use it")
        try:
            task = transitions.complete(self.ctx, slug, tid, actor=self.actor, summary=redact(summary),
                                        result=redact(result), metadata=redact_json(metadata),
                                        created_cards=[str(c) for c in created_cards or ()],
                                        artifacts=[redact(str(a)) or "" for a in artifacts or ()])
        except UnknownCards as err:
            return fail("HallucinatedCards", err.message, retryable=True,
                        hint="create them with kanban_create, or leave them out of created_cards",
                        missing=err.missing)
        children = graph.edges(self.ctx, [task.id])[task.id]["children"]
        child_status = {c: tasks.get(self.ctx, slug, c).status.value for c in children}
        return ok(task_id=task.id, status=task.status.value, children=child_status)

    @guarded
    def kanban_block(
        self,
        reason: Annotated[str, Field(description="What you need and from whom; a person reads this.")],
        kind: Annotated[str | None, Field(
            description="dependency, needs_input, capability or transient.")] = None,
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        why = (redact(reason) or "").strip()
        if not why:
            raise ValidationError("reason is required: say what you need to continue")
        if kind is not None and kind not in BLOCK_KINDS:
            raise ValidationError(f"unknown kind {kind!r}; use one of: {', '.join(BLOCK_KINDS)}")
        task = transitions.block(self.ctx, slug, tid, actor=self.actor,
                                 reason=f"[{kind}] {why}" if kind else why)
        return ok(task_id=task.id, status=task.status.value, kind=kind)

    @guarded
    def kanban_comment(
        self,
        body: Annotated[str, Field(description="Markdown text. Your profile is the author.")],
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        comment = comments.add(self.ctx, slug, tid, redact(body) or "", actor=self.actor)
        return ok(task_id=tid, comment_id=comment.id, author=comment.author)

    @guarded
    def kanban_attach(
        self,
        filename: Annotated[str, Field(description="The name to store it under, e.g. report.md.")],
        path: Annotated[str | None, Field(
            description="A file on your machine to attach (inside a worker only).")] = None,
        content: Annotated[str | None, Field(description="Text to attach instead of a file.")] = None,
        content_base64: Annotated[str | None, Field(description="Bytes to attach, base64.")] = None,
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        import base64
        import binascii
        from pathlib import Path

        from ..services import attachments

        given = [x is not None for x in (path, content, content_base64)]
        if sum(given) != 1:
            raise ValidationError("give exactly one of path, content or content_base64")
        slug = self._board(board)
        tid = self._task(slug, task_id)
        if path is not None:
            # Reading a path is only for a worker's own machine: over the network it would read
            # the server's files (`kanban mcp --server` sends a worker's file as content_base64).
            if self.settings.worker is None or not self.local_files:
                raise ValidationError("path is only accepted by a worker's own `kanban mcp`; send "
                                      "content or content_base64 instead")
            file = Path(path).expanduser()
            if not file.is_file():
                raise ValidationError(f"no file at {path!r}")
            data = file.read_bytes()
        elif content is not None:
            data = content.encode()
        else:
            try:
                data = base64.b64decode(content_base64 or "", validate=True)
            except (binascii.Error, ValueError):
                raise ValidationError("content_base64 is not valid base64") from None
        att = attachments.add(self.ctx, slug, tid, filename=filename, chunks=[data], actor=self.actor)
        return ok(task_id=tid, attachment_id=att.id, filename=att.filename, size=att.size)

    # -- building the graph ----------------------------------------------------------------

    @guarded
    def kanban_create(
        self,
        title: str,
        assignee: Annotated[str | None, Field(
            description="Profile that should run it; unassigned tasks wait for a person.")] = None,
        body: Annotated[str | None, Field(description="Full instructions (markdown).")] = None,
        parents: Annotated[list[str] | None, Field(
            description="Task ids this one waits for; it becomes ready when all are done.")] = None,
        priority: int = 0,
        tenant: str | None = None,
        triage: Annotated[bool, Field(description="Park it in triage for a person to refine.")] = False,
        workspace: Annotated[str | None, Field(
            description="scratch, dir:/abs/path or worktree:/abs/repo; a worker's follow-up "
                        "inherits its directory.")] = None,
        skills: list[str] | None = None,
        max_runtime_seconds: int | None = None,
        idempotency_key: Annotated[str | None, Field(
            description="Same key returns the existing task instead of a duplicate.")] = None,
        labels: Annotated[list[str] | None, Field(
            description="Label names (1-40 characters, no commas).")] = None,
        due_at: Annotated[str | None, Field(
            description="Due date: 2026-12-31 (end of day, UTC) or 2026-12-31T17:00.")] = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)  # a worker's follow-up inherits tenant and workspace (services)
        made = tasks.create(self.ctx, slug, title=title, actor=self.actor, body=redact(body),
                            assignee=assignee, parents=list(parents or ()), tenant=tenant,
                            priority=priority, triage=triage, idempotency_key=idempotency_key,
                            max_runtime_seconds=max_runtime_seconds, skills=skills,
                            workspace=workspace, labels=labels, due_at=due_at)
        parent_ids = graph.edges(self.ctx, [made.task.id])[made.task.id]["parents"]
        return ok(task_id=made.task.id, status=made.task.status.value, created=made.created,
                  parents=parent_ids, task=_compact(made.task))

    @guarded
    def kanban_link(
        self,
        parent_id: Annotated[str, Field(description="The task that must finish first.")],
        child_id: Annotated[str, Field(description="The task that waits for it.")],
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        parent = self._required(slug, parent_id, "parent_id")
        child = self._required(slug, child_id, "child_id")
        added = links.link(self.ctx, slug, parent, child, actor=self.actor)
        return ok(parent_id=parent, child_id=child, linked=added,
                  child_status=tasks.get(self.ctx, slug, child).status.value)

    @guarded
    def kanban_unblock(
        self,
        task_id: Annotated[str, Field(description="The blocked task.")],
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._required(slug, task_id, "task_id")
        task = transitions.unblock(self.ctx, slug, tid, actor=self.actor)
        return ok(task_id=task.id, status=task.status.value)

    @guarded
    def kanban_approve(
        self,
        summary: Annotated[str | None, Field(description="What you checked and found.")] = None,
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        task = review.approve(self.ctx, slug, tid, actor=self.actor, summary=redact(summary))
        return ok(task_id=task.id, status=task.status.value)

    @guarded
    def kanban_request_changes(
        self,
        reason: Annotated[str, Field(description="What must change, specifically enough to act on.")],
        task_id: TaskRef = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        task = review.request_changes(self.ctx, slug, tid, actor=self.actor, reason=redact(reason) or "")
        return ok(task_id=task.id, status=task.status.value, review_rounds=task.review_rounds)

    # -- the rest (``--tools all``) --------------------------------------------------------

    @guarded
    def kanban_subscribe(
        self,
        task_id: TaskRef = None,
        platform: Annotated[str | None, Field(
            description="telegram, discord, slack or webhook; defaults to the first configured.")] = None,
        chat_id: Annotated[str | None, Field(
            description="Where to post; defaults to the platform's home channel.")] = None,
        thread_id: str | None = None,
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._task(slug, task_id)
        if not chat_id:
            homes = subs.home_channels(self.ctx)
            if platform:
                home = subs.home_channel(self.ctx, platform)
            elif homes:
                home = homes[0]
            else:
                raise ValidationError("no home channel is configured; give platform and chat_id")
            platform, chat_id, thread_id = home["platform"], home["chat_id"], thread_id or home["thread_id"]
        if not platform:
            raise ValidationError("platform is required with chat_id")
        added = subs.subscribe(self.ctx, slug, tid, platform=platform, chat_id=chat_id,
                               thread_id=thread_id)
        return ok(task_id=tid, subscribed=added, platform=platform, chat_id=chat_id,
                  thread_id=thread_id or "")

    @guarded
    def kanban_assign(
        self,
        task_id: Annotated[str, Field(description="The task to hand to someone else.")],
        assignee: Annotated[str, Field(description='Profile name; "none" to unassign.')],
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._required(slug, task_id, "task_id")
        who = None if assignee.strip().lower() in {"", "none", "-"} else assignee
        task = tasks.assign(self.ctx, slug, tid, who)
        return ok(task_id=task.id, assignee=task.assignee, status=task.status.value)

    @guarded
    def kanban_archive(
        self,
        task_id: Annotated[str, Field(description="The task to take off the board.")],
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._required(slug, task_id, "task_id")
        task = transitions.archive(self.ctx, slug, tid, actor=self.actor)
        return ok(task_id=task.id, status=task.status.value)

    @guarded
    def kanban_approve_start(
        self,
        task_id: Annotated[str, Field(description="The task waiting for approval.")],
        board: Board = None,
    ) -> CallToolResult:
        slug = self._board(board)
        tid = self._required(slug, task_id, "task_id")
        task = review.approve_start(self.ctx, slug, tid, actor=self.actor)
        return ok(task_id=task.id, approval=task.approval)

    # -- resources -------------------------------------------------------------------------

    def context_document(self, task_id: str, board: str | None = None) -> str:
        slug = self._board(board)
        tid = verbs.readable(self.ctx, slug, self._task(slug, task_id), self.actor)
        return worker_context.build(self.ctx, slug, tid)
