"""Request bodies and response shapes of the HTTP API, so OpenAPI describes every route.

Responses are built by the services as plain dicts and sent as JSON directly (no second validation
pass over a 10,000-task board); these models document exactly those shapes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..domain.statuses import Status
from ..services import common, due, limits, scheduling


class _Body(BaseModel):
    # A field we do not support is refused (422) rather than silently dropped.
    model_config = ConfigDict(extra="forbid")


# Integers the databases can hold (PostgreSQL INTEGER is 32-bit): larger ones are 422, not 500.
# strict: true and false are not numbers (lax mode would store them as 1 and 0)
def _number(value: Any) -> Any:
    """JSON numbers only: true, false and "7" are refused; 7.0 is the integer 7 (as JSON Schema
    has it), 7.5 is refused by the integer check that follows."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    return value


def whole(**bounds: int) -> Any:
    """An integer within ``bounds`` (ge, le), given as a JSON number."""
    return Annotated[int, Field(**bounds), BeforeValidator(_number)]


Priority = whole(ge=limits.PRIORITY_MIN, le=limits.PRIORITY_MAX)
Seconds = whole(ge=1, le=limits.SECONDS_MAX)
Rounds = whole(ge=1, le=100)  # a task's review rounds (services.review_policy)
Flag = Annotated[bool, Field(strict=True)]  # true or false, not "yes" or 1

# The services' own rules on text, written into the schema so a client (and the fuzzer) can tell
# valid input before sending it; the services still refuse the rest, with 400 (patterns are in
# Python's regular expression dialect, which is what the services apply).
# A board slug as boards.normalize_slug takes it: surrounding blanks dropped, case folded.
SLUG_PATTERN = r"^\s*[A-Za-z0-9\u212a][A-Za-z0-9_\u212a-]{0,63}\s*$"
OPTIONAL_SLUG_PATTERN = r"^(\s*[A-Za-z0-9\u212a][A-Za-z0-9_\u212a-]{0,63}\s*)?$"
Slug = Annotated[str, Field(json_schema_extra={"pattern": SLUG_PATTERN})]
NonBlank = Annotated[str, Field(json_schema_extra={"pattern": r"\S"})]
Title = Annotated[str, Field(json_schema_extra={"pattern": r"\S", "maxLength": common.MAX_TITLE})]
WORKSPACE_KIND_PATTERN = r"^\s*(scratch|dir|worktree)?\s*$"


def any_case(words: list[str]) -> str:
    """An alternation of ``words`` that matches them in any case (``str.lower`` is applied)."""
    def one(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else re.escape(c)
                       for c in word)
    return "(" + "|".join(one(w) for w in words) + ")"


STATUS_WORD = any_case([st.value for st in Status])
STATUS_PATTERN = rf"^\s*{STATUS_WORD}\s*$"
# A status a request may ask for: any but running, which only a worker's claim sets.
SETTABLE_STATUS_PATTERN = rf"^\s*{any_case([st.value for st in Status if st is not Status.RUNNING])}\s*$"
# Several statuses, comma-separated; blank parts are ignored.
STATUSES_PATTERN = rf"^\s*{STATUS_WORD}?\s*(,\s*{STATUS_WORD}?\s*)*$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# scheduled_at: refused by the service (400, as the reference API answers), stated here.
WHEN: dict[str, Any] = {"exclusiveMinimum": 0, "maximum": scheduling.LATEST}
ABSOLUTE_PATH_PATTERN = r"^\s*(/[\s\S]*)?$"
WORKDIR_FOR_KIND: dict[str, Any] = {
    "if": {"properties": {"default_workspace_kind": {"type": "string", "pattern": r"^\s*(dir|worktree)\s*$"},
                          "default_workdir": {"type": "string"}},
           "required": ["default_workspace_kind", "default_workdir"]},
    "then": {"properties": {"default_workdir": {"pattern": r"\S"}}}}


# Timestamps are whole epoch seconds, as in the seed (stored with sub-second precision).
Epoch = Annotated[int, Field(description="Unix time in whole seconds")]


# A due date: Unix seconds, or an ISO date (end of that day, UTC) or date-time; null for none.
DueIn = Annotated[Annotated[float, Field(ge=due.EARLIEST, lt=due.LATEST)] | str | None, Field(
    description="Unix seconds, or an ISO date (2026-12-31: the end of that day, UTC) or date-time "
                "(2026-12-31T17:00, UTC unless an offset is given); null for no due date.")]
LabelsIn = Annotated[list[str] | None, Field(
    description="Label names (1-40 characters each, no commas, at most 20 on a task).")]


# -- errors ---------------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    """Every error has this one shape."""

    detail: str = Field(description="What went wrong, in words a person can act on.")
    error: str | None = Field(default=None, description="The error's class (`NotFound`, "
                              "`Forbidden`, ...) when the board refused the request.")


# -- tasks ----------------------------------------------------------------------------------------
class Age(BaseModel):
    created_age_seconds: int
    started_age_seconds: int | None
    time_to_complete_seconds: int | None


class TaskOut(BaseModel):
    id: str
    board: str
    title: str
    body: str | None
    assignee: str | None
    status: str = Field(description="triage, todo, scheduled, ready, running, review, blocked, done or "
                                    "archived")
    priority: int
    tenant: str | None
    created_by: str | None
    created_at: Epoch
    updated_at: Epoch
    started_at: Epoch | None
    completed_at: Epoch | None
    workspace_kind: str
    workspace_path: str | None
    idempotency_key: str | None
    consecutive_failures: int
    last_failure_error: str | None
    max_runtime_seconds: int | None
    max_retries: int | None
    last_heartbeat_at: Epoch | None
    current_run_id: int | None
    worker_pid: int | None
    claim_lock: str | None
    claim_expires: Epoch | None
    skills: list[str]
    result: str | None
    goal_mode: bool = False
    goal_max_turns: int | None = None
    scheduled_at: float | None = None
    review_by: str | None = Field(None, description="Who reviews its work: a profile, human or none; "
                                                    "null: its profile's policy.")
    review_max_rounds: int | None = None
    review_rounds: int = Field(0, description="Requests for changes since it last left review.")
    review_stage: str | None = Field(None, description="In review: acceptance, agent or human.")
    requires_approval: bool = False
    approval: str | None = Field(None, description="Approval to start: null, requested or approved.")
    labels: list[str] = Field(default_factory=list, description="Label names, sorted.")
    due_at: Epoch | None = Field(None, description="When the task is due; null when it has no due date.")
    age: Age


class LinkCounts(BaseModel):
    parents: int
    children: int


class Progress(BaseModel):
    done: int
    total: int


class DiagnosticAction(BaseModel):
    kind: str = Field(description="reclaim, reassign, unblock or comment")
    label: str
    payload: dict[str, Any] | None = None


class Diagnostic(BaseModel):
    kind: str = Field(description="repeated_failures, unknown_assignee, stuck, stale_heartbeat, gave_up")
    severity: str = Field(description="warning, error or critical")
    title: str
    detail: str
    first_seen_at: float | None = None
    last_seen_at: float | None = None
    actions: list[DiagnosticAction]


class Warnings(BaseModel):
    count: int
    highest_severity: str
    kinds: dict[str, int]
    latest_at: float | None


class DetailTaskOut(TaskOut):
    """A task with what needs attention about it (the task detail's and every card's)."""

    latest_summary: str | None = Field(None, description="The summary of the latest completed run.")
    warnings: Warnings | None = Field(None, description="Null when nothing needs attention.")
    diagnostics: list[Diagnostic] = Field(default_factory=list)


class WhyOut(BaseModel):
    kind: str = Field(description="Which cause: blocked, gave_up, parent, scheduled, parked, "
                                  "unassigned, no_profile, no_dispatcher, budget, provider_cooldown, "
                                  "provider_cap, board_cap, profile_cap or retry.")
    text: str = Field(description='One short phrase, e.g. "coder at its limit of 2".')


WHY = Field(None, description="Why this task is not moving; null when it is (running, finished, "
                              "or about to be started).")


class StepsOut(BaseModel):
    done: int
    total: int


class ActivityOut(BaseModel):
    note: str | None = Field(description="The worker's last heartbeat note on this attempt.")
    note_at: int | None = Field(description="When it gave that note.")
    progress: StepsOut | None = Field(description="The last progress it reported "
                                                  "(kanban heartbeat --progress 3/12).")


ACTIVITY = Field(None, description="Running tasks: what the worker last said; null otherwise.")
RUNNER = Field(None, description="Running tasks held by a remote runner: the runner's name (from "
                                 "the claim lock); null otherwise.")


class WhyTaskOut(DetailTaskOut):
    why: WhyOut | None = WHY
    activity: ActivityOut | None = ACTIVITY
    runner: str | None = RUNNER


class BoardTaskOut(DetailTaskOut):
    link_counts: LinkCounts
    comment_count: int
    progress: Progress | None = Field(description="Children done / total; null without children.")
    next_attempt_at: float | None = Field(
        default=None, description="Ready cards waiting out a retry backoff: when the dispatcher "
                                  "may start the next attempt (absent otherwise).")


class RetryOut(BaseModel):
    next_attempt_at: float = Field(description="The dispatcher starts no attempt before this.")
    failure_class: str = Field(description="spawn_failed, crashed, timed_out, lost_runner, "
                                           "infrastructure or rate_limited")
    failures: int = Field(description="Consecutive failures counted against the task.")


class ColumnOut(BaseModel):
    name: str
    tasks: list[BoardTaskOut]


class BoardOut(BaseModel):
    columns: list[ColumnOut] = Field(description="triage, todo, ready, running, blocked, done (+ archived)")
    tenants: list[str]
    assignees: list[str] = Field(description="Assignees of tasks that are not archived.")
    labels: list[LabelOut] = Field(default_factory=list, description="Labels in use, with colours.")
    latest_event_id: int = Field(description="Pass as ?since= to the /events WebSocket.")
    now: int


class PageTaskOut(BoardTaskOut):
    why: WhyOut | None = WHY
    activity: ActivityOut | None = ACTIVITY
    runner: str | None = RUNNER


class PageColumnOut(ColumnOut):
    tasks: list[PageTaskOut]  # type: ignore[assignment]
    count: int = Field(description="Exact number of tasks in the column (with the filters).")
    next_offset: int | None = Field(description="Pass as ?offset= with ?column= for the next page; "
                                                "null at the end.")


class LabelOut(BaseModel):
    name: str
    color: str = Field(description="#rrggbb: chosen, or derived from the name")
    custom: bool = Field(description="Whether someone chose the colour")
    count: int = Field(description="Tasks carrying it that are not archived")


class LabelsOut(BaseModel):
    labels: list[LabelOut]


class LabelColorIn(_Body):
    color: str = Field(description="#rrggbb, or 'auto' for the colour derived from the name")


class BoardPageOut(BaseModel):
    columns: list[PageColumnOut] = Field(description="Each column's page (one column with ?column=)")
    tenants: list[str]
    assignees: list[str] = Field(description="Assignees of tasks that are not archived.")
    labels: list[LabelOut] = Field(default_factory=list, description="Labels in use, with colours.")
    latest_event_id: int = Field(description="Pass as ?since= to the /events WebSocket.")
    now: int


class EventOut(BaseModel):
    id: int
    task_id: str
    run_id: int | None
    kind: str
    payload: dict[str, Any] | None
    created_at: Epoch
    board: str


class FeedEventOut(EventOut):
    title: str = Field(description="The task's title.")


class FeedOut(BaseModel):
    events: list[FeedEventOut] = Field(description="Newest first.")
    next_before: int | None = Field(description="Pass as `before` for the next, older page; null at "
                                                "the start of the log.")


class CommentOut(BaseModel):
    id: int
    task_id: str
    author: str
    body: str
    created_at: Epoch


class RunOut(BaseModel):
    id: int
    task_id: str
    profile: str | None
    status: str
    claim_lock: str | None
    claim_expires: Epoch | None
    worker_pid: int | None
    max_runtime_seconds: int | None
    last_heartbeat_at: Epoch | None
    started_at: Epoch
    ended_at: Epoch | None
    outcome: str | None
    summary: str | None
    metadata: dict[str, Any] | None
    error: str | None
    step_key: str | None
    kind: str = Field("work", description="work, review, acceptance or approval")


class LinksOut(BaseModel):
    parents: list[str]
    children: list[str]


class ChildResult(BaseModel):
    id: str
    title: str
    status: str
    assignee: str | None
    result: str | None
    latest_summary: str | None


class TaskDetailOut(BaseModel):
    task: WhyTaskOut
    attachments: list[AttachmentMeta]
    child_results: list[ChildResult] = Field(description="What each child task produced.")
    comments: list[CommentOut]
    events: list[EventOut] = Field(description="The most recent events, oldest first.")
    links: LinksOut
    runs: list[RunOut]
    retry: RetryOut | None = Field(default=None, description="Set while the task waits out a "
                                                             "retry backoff.")


class GraphNodeOut(BaseModel):
    id: str
    title: str
    status: str
    assignee: str | None
    board: str
    depth: int = Field(description="Levels from the task: negative above it (-1: its parents), "
                                   "0 the task itself, positive below it (1: its children).")


class GraphEdgeOut(BaseModel):
    parent: str
    child: str = Field(description="Waits for `parent`.")


class GraphOut(BaseModel):
    root: str = Field(description="The task's id.")
    nodes: list[GraphNodeOut] = Field(description="By depth, then title; the task itself at depth 0.")
    edges: list[GraphEdgeOut] = Field(description="The links between the tasks in `nodes`.")
    truncated: bool = Field(description="The graph goes on beyond `depth` levels or `limit` tasks.")


class TaskListOut(BaseModel):
    tasks: list[TaskOut]


class CreateTaskIn(_Body):
    # goal_max_turns only with goal_mode (400 otherwise)
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"goal_max_turns": {"type": "integer"}}, "required": ["goal_max_turns"]},
        "then": {"properties": {"goal_mode": {"const": True}}, "required": ["goal_mode"]}})

    title: Title
    body: str | None = None
    assignee: str | None = None
    tenant: str | None = None
    priority: Priority = 0
    workspace_kind: str | None = Field(
        None, description="scratch, dir or worktree; omitted means the board's default (else scratch)")
    workspace_path: str | None = Field(None, description="Absolute path for dir and worktree.")
    parents: list[str] = Field(default_factory=list)
    triage: Flag = False
    idempotency_key: str | None = None
    max_runtime_seconds: Seconds | None = None
    skills: list[str] | None = None
    max_cost_usd: Annotated[float, Field(strict=True)] | None = Field(None, gt=0, le=100_000,
                                       description="Spending limit over all attempts, in dollars.")
    goal_mode: Flag = Field(False, description="Ask the worker to pursue the goal over several turns.")
    goal_max_turns: whole(ge=1, le=1_000_000) | None = None
    scheduled_at: float | None = Field(
        None, json_schema_extra=WHEN,
        description="Unix seconds; in the future, the task waits in 'scheduled' until then.")
    review_by: str | None = Field(None, max_length=128,
                                  description="A profile, human or none; default: the profile's policy.")
    review_max_rounds: Rounds | None = None
    requires_approval: Flag = Field(False, description="A person approves it before it may start.")
    labels: LabelsIn = None
    due_at: DueIn = None
    runs_on: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]] | None = Field(
        None, max_length=32, description="Labels a remote runner must carry to run it (docs/runners.md).")


class CreateTaskOut(BaseModel):
    task: TaskOut
    warning: str | None = Field(
        None, description="Set when the task is ready and assigned but no dispatcher is running.")


class UpdateTaskIn(_Body):
    """Applied in this order: assignee, status, priority, title/body."""

    status: str | None = Field(None, description="triage, todo, ready, blocked, done or archived",
                               json_schema_extra={"pattern": SETTABLE_STATUS_PATTERN})
    assignee: str | None = Field(None, description='"" unassigns')
    priority: Priority | None = None
    title: Title | None = None
    body: str | None = None
    result: str | None = Field(None, description="With status=done: the task's result.")
    block_reason: str | None = Field(None, description="With status=blocked.")
    summary: str | None = Field(None, description="With status=done: the handoff summary.")
    metadata: dict[str, Any] | None = Field(None, description="With status=done: structured handoff.")
    created_cards: list[str] | None = Field(
        None, description="With status=done: ids of follow-up tasks made for it (each must exist); "
                          "kept in metadata.created_cards. Not in the seed.")
    artifacts: list[str] | None = Field(
        None, description="With status=done: paths or URLs produced; kept in metadata.artifacts. "
                          "Not in the seed.")
    max_cost_usd: Annotated[float, Field(strict=True)] | None = Field(None, ge=0, le=100_000,
                                       description="Set the task's spending limit in dollars; 0 clears it.")
    goal_mode: Flag | None = None
    goal_max_turns: whole(ge=0, le=1_000_000) | None = Field(
        None, description="0 clears the limit.")
    scheduled_at: float | None = Field(
        None, json_schema_extra=WHEN,
        description="Unix seconds: a future time parks a waiting task in 'scheduled'; null "
                    "releases it.")
    labels: LabelsIn = Field(None, description="Replaces the task's labels ([] removes them all).")
    add_labels: LabelsIn = None
    remove_labels: LabelsIn = None
    due_at: DueIn = Field(None, description="Sets the due date; null clears it (when given).")


class TaskOnlyOut(BaseModel):
    task: TaskOut


class CommentIn(_Body):
    body: NonBlank
    author: str | None = "dashboard"


class OkOut(BaseModel):
    ok: bool


class LinkIn(_Body):
    parent_id: NonBlank
    child_id: NonBlank


class BulkIn(_Body):
    ids: list[NonBlank] = Field(json_schema_extra={"minItems": 1})  # [] is 400, from the service
    status: str | None = Field(None, description="Any status but running; a refused one is "
                                                 "reported for each id, like every other refusal.")
    assignee: str | None = Field(None, description='"" unassigns')
    priority: Priority | None = None
    archive: Flag = Field(False, description="Archive wins over status.")
    block_reason: str | None = Field(None, description="With status=blocked.")
    result: str | None = None
    summary: str | None = None
    metadata: dict[str, Any] | None = None
    reclaim_first: Flag = Field(False, description="With assignee: end running attempts first.")
    add_labels: LabelsIn = None
    remove_labels: LabelsIn = None
    due_at: DueIn = Field(None, description="Sets every task's due date; null clears it (when given).")


class BulkResult(BaseModel):
    id: str
    ok: bool
    error: str | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]


# -- attachments and by-id task verbs -------------------------------------------------------------
class AttachmentMeta(BaseModel):
    id: int
    task_id: str
    filename: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    created_at: float


class AttachmentOut(BaseModel):
    attachment: AttachmentMeta


class AttachmentsOut(BaseModel):
    attachments: list[AttachmentMeta]


class DeleteTaskOut(BaseModel):
    ok: bool
    id: str
    board: str
    deleted: bool
    attachments_removed: int
    promoted: list[str] = Field(description="Children that became ready once this parent was gone.")


class ReclaimIn(_Body):
    reason: str | None = None


class ReassignIn(_Body):
    profile: str | None = Field(None, description='"" or null unassigns')
    reclaim_first: Flag = False
    reason: str | None = None


class ReclaimOut(BaseModel):
    ok: bool
    task: TaskOut
    worker: str = Field(description="What happened to the worker process, if one was running.")
