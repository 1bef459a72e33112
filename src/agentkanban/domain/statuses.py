"""Task statuses and the one transition table every status change is checked against."""

from __future__ import annotations

from enum import StrEnum

from ..errors import InvalidTransition, ValidationError


class Status(StrEnum):
    TRIAGE = "triage"
    TODO = "todo"
    SCHEDULED = "scheduled"
    READY = "ready"
    RUNNING = "running"
    REVIEW = "review"
    BLOCKED = "blocked"
    DONE = "done"
    ARCHIVED = "archived"

    def __str__(self) -> str:
        return self.value


S = Status

# Columns of the board, left to right; "archived" only when asked for.
BOARD_COLUMNS: tuple[str, ...] = ("triage", "todo", "scheduled", "ready", "running", "review", "blocked",
                                   "done")

# Which statuses a task may move to from each status. Guards that need more than the two statuses
# (parents done, a valid run token, ...) live in the services; this table is the outer bound.
# ``scheduled`` holds a task until its ``scheduled_at``; it is entered by setting that time (create
# or edit, see services.scheduling), never by a plain move, and left for ``todo`` when due.
# ``review`` holds a finished attempt's work until it is checked (services.review): entered only by
# a worker's complete, left by a verdict (done, or back to ready for changes), by a person's move
# or block; review -> review is a check's attempt starting or ending.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.TRIAGE: frozenset({S.TODO, S.SCHEDULED, S.READY, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.TODO: frozenset({S.TRIAGE, S.SCHEDULED, S.READY, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.SCHEDULED: frozenset({S.TRIAGE, S.TODO, S.READY, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.READY: frozenset({S.TRIAGE, S.TODO, S.SCHEDULED, S.RUNNING, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.RUNNING: frozenset({S.TODO, S.READY, S.REVIEW, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.REVIEW: frozenset({S.TRIAGE, S.TODO, S.READY, S.REVIEW, S.BLOCKED, S.DONE, S.ARCHIVED}),
    S.BLOCKED: frozenset({S.TRIAGE, S.TODO, S.SCHEDULED, S.READY, S.DONE, S.ARCHIVED}),
    S.DONE: frozenset({S.TODO, S.READY, S.ARCHIVED}),
    S.ARCHIVED: frozenset({S.TRIAGE, S.TODO, S.READY}),
}

# Statuses a person may set directly (drag and drop, ``PATCH {status}``); the others have verbs.
DIRECT_TARGETS: frozenset[Status] = frozenset({S.TRIAGE, S.TODO, S.READY})

# A parent in one of these statuses no longer holds its children back.
PARENT_SATISFIED: frozenset[Status] = frozenset({S.DONE, S.ARCHIVED})


# The one refusal of a move into ``running`` by anything but a claim, from every surface: a
# ValidationError (400 over HTTP, as the seed answers a PATCH to running), never a Conflict.
RUNNING_ONLY_BY_CLAIM = (
    "cannot set status to 'running' directly; only the dispatcher's claim starts a task "
    "(assign it and leave it in 'ready')"
)


def parse_status(value: str) -> Status:
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ValidationError(f"unknown status {value!r}; use one of: {allowed}") from None


def refuse_running(to: Status) -> None:
    if to is S.RUNNING:
        raise ValidationError(RUNNING_ONLY_BY_CLAIM)


def check_transition(frm: Status, to: Status, *, claim: bool = False) -> None:
    """Raise :class:`InvalidTransition` unless the table allows ``frm -> to``; only a claim may
    move into ``running``."""
    if not claim:
        refuse_running(to)
    if to not in TRANSITIONS[frm]:
        raise InvalidTransition(f"cannot move a task from '{frm.value}' to '{to.value}'")
