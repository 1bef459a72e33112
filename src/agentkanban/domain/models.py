"""Frozen records the store hands to the services and the services hand to the edges."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .statuses import Status

# Run outcomes: how an attempt ended.
# The orders a task list can be read in (services.tasks gives each its columns).
TASK_SORTS = ("priority", "priority-asc", "created", "created-desc", "updated", "status", "assignee",
              "title", "due")
OUTCOME_COMPLETED = "completed"
OUTCOME_BLOCKED = "blocked"
OUTCOME_CRASHED = "crashed"
OUTCOME_PROTOCOL_VIOLATION = "protocol_violation"
OUTCOME_RATE_LIMITED = "rate_limited"
OUTCOME_TIMED_OUT = "timed_out"
OUTCOME_SPAWN_FAILED = "spawn_failed"
OUTCOME_GAVE_UP = "gave_up"
OUTCOME_RECLAIMED = "reclaimed"
# The runner holding the attempt stopped extending its lease (killed, powered off, partitioned).
OUTCOME_RUNNER_LOST = "runner_lost"
# How a check's attempt ended (a review, an acceptance run, a person's approval to start).
OUTCOME_APPROVED = "approved"
OUTCOME_CHANGES_REQUESTED = "changes_requested"
OUTCOME_ACCEPTED = "accepted"
OUTCOME_START_APPROVED = "start_approved"

RUN_OUTCOMES: frozenset[str] = frozenset(
    {
        OUTCOME_COMPLETED, OUTCOME_BLOCKED, OUTCOME_CRASHED, OUTCOME_PROTOCOL_VIOLATION,
        OUTCOME_RATE_LIMITED, OUTCOME_TIMED_OUT, OUTCOME_SPAWN_FAILED, OUTCOME_GAVE_UP,
        OUTCOME_RECLAIMED, OUTCOME_APPROVED, OUTCOME_CHANGES_REQUESTED, OUTCOME_ACCEPTED,
        OUTCOME_START_APPROVED, OUTCOME_RUNNER_LOST,
    }
)

# What an attempt is: the work itself, or a check of it (runs.kind).
RUN_WORK = "work"
RUN_REVIEW = "review"
RUN_ACCEPTANCE = "acceptance"
RUN_APPROVAL = "approval"
# Which check a task in review waits for (tasks.review_stage).
STAGE_ACCEPTANCE = "acceptance"
STAGE_AGENT = "agent"
STAGE_HUMAN = "human"

WORKSPACE_KINDS: frozenset[str] = frozenset({"scratch", "dir", "worktree"})


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    board: str
    title: str
    body: str | None
    assignee: str | None
    status: Status
    priority: int
    tenant: str | None
    created_by: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    completed_at: float | None
    workspace_kind: str
    workspace_path: str | None
    idempotency_key: str | None
    consecutive_failures: int
    last_failure_error: str | None
    max_runtime_seconds: int | None
    max_retries: int | None
    last_heartbeat_at: float | None
    current_run_id: int | None
    worker_pid: int | None
    claim_lock: str | None
    claim_expires: float | None
    skills: tuple[str, ...] = ()
    result: str | None = None
    goal_mode: bool = False
    goal_max_turns: int | None = None
    scheduled_at: float | None = None
    review_by: str | None = None  # a profile, "human" or "none"; None: the profile's policy
    review_max_rounds: int | None = None
    review_rounds: int = 0  # changes requested since the task last left review for good
    review_stage: str | None = None  # in review: acceptance, agent or human
    requires_approval: bool = False
    approval: str | None = None  # None, "requested" or "approved" (to start)
    labels: tuple[str, ...] = ()
    due_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every field, 20x slower on a 10,000-task board.
        d = {name: getattr(self, name) for name in TASK_FIELDS}
        d["status"] = self.status.value
        d["skills"] = list(self.skills)
        d["labels"] = list(self.labels)
        return whole_seconds(d, TASK_TIMES)


TASK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Task))
# Stored with sub-second precision (ordering, durations); shown as whole epoch seconds, as the
# seed's API does, in every JSON shape (API, CLI --json, MCP).
TASK_TIMES: tuple[str, ...] = ("created_at", "updated_at", "started_at", "completed_at",
                               "last_heartbeat_at", "claim_expires", "due_at")


def whole_seconds(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Truncate the timestamps ``keys`` of ``d`` to whole epoch seconds, in place."""
    for k in keys:
        v = d.get(k)
        if v is not None:
            d[k] = int(v)
    return d


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    task_id: str
    profile: str | None
    status: str
    claim_lock: str | None
    claim_expires: float | None
    worker_pid: int | None
    max_runtime_seconds: int | None
    last_heartbeat_at: float | None
    started_at: float
    ended_at: float | None
    outcome: str | None
    summary: str | None
    metadata: dict[str, Any] | None
    error: str | None
    step_key: str | None = None
    kind: str = RUN_WORK

    def to_dict(self) -> dict[str, Any]:
        return whole_seconds(asdict(self), ("claim_expires", "last_heartbeat_at", "started_at",
                                            "ended_at"))


# A claim lock ``runner/<name>:0:<nonce>`` marks an attempt held by a remote runner; a host name
# never holds a slash, so the reaper never takes it for a process of its own machine.
RUNNER_LOCK_PREFIX = "runner/"


@dataclass(frozen=True, slots=True)
class Runner:
    """A remote runner: its token's limits (None: any) and what it announced at registration."""

    name: str
    token_hash: str
    allowed_profiles: tuple[str, ...] | None
    allowed_labels: tuple[str, ...] | None
    labels: tuple[str, ...]
    profiles: tuple[str, ...]
    capacity: int
    version: str | None
    host: str | None
    created_at: float
    registered_at: float | None
    last_seen_at: float | None
    revoked_at: float | None

    @property
    def lock_prefix(self) -> str:
        return f"{RUNNER_LOCK_PREFIX}{self.name}:"


def runner_of_lock(lock: str | None) -> str | None:
    """The runner's name when ``lock`` is a runner's claim lock, else None."""
    if not lock or not lock.startswith(RUNNER_LOCK_PREFIX):
        return None
    return lock[len(RUNNER_LOCK_PREFIX):].split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    task_id: str
    board: str
    filename: str
    stored_name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        """The API shape: the stored file name on disk is not part of it."""
        return {"id": self.id, "task_id": self.task_id, "filename": self.filename, "size": self.size,
                "content_type": self.content_type, "sha256": self.sha256,
                "uploaded_by": self.uploaded_by, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    task_id: str
    author: str
    body: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return whole_seconds(asdict(self), ("created_at",))


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    board: str
    task_id: str
    run_id: int | None
    kind: str
    payload: dict[str, Any] | None
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "kind": self.kind,
            "payload": self.payload,
            "created_at": int(self.created_at),
            "board": self.board,
        }


@dataclass(frozen=True, slots=True)
class Board:
    slug: str
    name: str
    description: str
    icon: str
    color: str
    created_at: float
    archived_at: float | None = None
    default_workdir: str | None = None
    default_workspace_kind: str | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def to_dict(self) -> dict[str, Any]:
        d = whole_seconds(asdict(self), ("created_at", "archived_at"))
        d["archived"] = self.archived
        return d


@dataclass(frozen=True, slots=True)
class Subscription:
    task_id: str
    platform: str
    chat_id: str
    thread_id: str
    user_id: str | None
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return whole_seconds(asdict(self), ("created_at",))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification owed: an event to one destination."""

    id: int
    event_id: int
    board: str
    task_id: str
    platform: str
    chat_id: str
    thread_id: str
    status: str  # pending | sending | sent | failed
    attempts: int
    next_attempt_at: float
    last_error: str | None
    sent_at: float | None
    created_at: float
    message_id: str | None = None  # the platform's id for the posted message
    kind: str | None = None  # the event's kind, when the store joined it in

    def to_dict(self) -> dict[str, Any]:
        return whole_seconds(asdict(self), ("next_attempt_at", "sent_at", "created_at"))


@dataclass(frozen=True, slots=True)
class TaskDetail:
    """Everything ``show`` returns about one task."""

    task: Task
    parents: list[str]
    children: list[str]
    comments: list[Comment]
    events: list[Event]
    runs: list[Run]
    extra: dict[str, Any] = field(default_factory=dict)
