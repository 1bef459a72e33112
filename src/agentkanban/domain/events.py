"""Event kinds written to the append-only event log."""

from __future__ import annotations

# Lifecycle and edits.
CREATED = "created"
PROMOTED = "promoted"
CLAIMED = "claimed"
COMPLETED = "completed"
BLOCKED = "blocked"
UNBLOCKED = "unblocked"
ARCHIVED = "archived"
ASSIGNED = "assigned"
EDITED = "edited"
REPRIORITIZED = "reprioritized"
STATUS = "status"
LINKED = "linked"
UNLINKED = "unlinked"
COMMENTED = "commented"
# Worker telemetry.
SPAWNED = "spawned"
HEARTBEAT = "heartbeat"
RECLAIMED = "reclaimed"
CRASHED = "crashed"
PROTOCOL_VIOLATION = "protocol_violation"
RATE_LIMITED = "rate_limited"
TIMED_OUT = "timed_out"
SPAWN_FAILED = "spawn_failed"
GAVE_UP = "gave_up"
# Spending: a budget was reached and the dispatcher holds back new attempts in its scope.
BUDGET_REACHED = "budget_reached"
# Review and approval (services.review): work submitted for checks, each verdict, each
# acceptance run, a person's approval before a task may start and its withdrawal.
SUBMITTED = "submitted"
REVIEW_REQUESTED = "review_requested"
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
ACCEPTANCE_PASSED = "acceptance_passed"
ACCEPTANCE_FAILED = "acceptance_failed"
APPROVAL_REQUESTED = "approval_requested"
START_APPROVED = "start_approved"
APPROVAL_WITHDRAWN = "approval_withdrawn"
# Files attached to a task.
ATTACHED = "attached"
DETACHED = "detached"
# Labels and due dates.
LABELED = "labeled"
DUE_CHANGED = "due_changed"

ALL_KINDS: frozenset[str] = frozenset(
    {
        CREATED, PROMOTED, CLAIMED, COMPLETED, BLOCKED, UNBLOCKED, ARCHIVED, ASSIGNED, EDITED,
        REPRIORITIZED, STATUS, LINKED, UNLINKED, COMMENTED, SPAWNED, HEARTBEAT, RECLAIMED,
        CRASHED, PROTOCOL_VIOLATION, RATE_LIMITED, TIMED_OUT, SPAWN_FAILED, GAVE_UP,
        BUDGET_REACHED, SUBMITTED, REVIEW_REQUESTED, APPROVED, CHANGES_REQUESTED,
        ACCEPTANCE_PASSED, ACCEPTANCE_FAILED, APPROVAL_REQUESTED, START_APPROVED, APPROVAL_WITHDRAWN,
        ATTACHED, DETACHED, LABELED, DUE_CHANGED,
    }
)

# Events that people subscribed to a task hear about on their chat platforms.
NOTIFY_KINDS: frozenset[str] = frozenset({COMPLETED, BLOCKED, GAVE_UP, CRASHED, TIMED_OUT,
                                          BUDGET_REACHED, REVIEW_REQUESTED, CHANGES_REQUESTED,
                                          APPROVAL_REQUESTED})
