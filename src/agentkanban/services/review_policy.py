"""Which checks a task's work goes through before it counts as done, from its profile and its
own overrides (docs/review.md). Pure: settings and a task in, a :class:`Policy` out."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Profile, Settings
from ..domain.models import STAGE_ACCEPTANCE, STAGE_AGENT, STAGE_HUMAN, Task
from ..errors import ValidationError
from ..reviewconfig import HUMAN, MAX_ROUNDS_DEFAULT, NOBODY


@dataclass(frozen=True)
class Policy:
    acceptance: tuple[str, ...] = ()  # commands run in the workspace after a complete
    acceptance_timeout: int = 600
    by: str | None = None  # the reviewing profile, "human", or None: no review
    max_rounds: int = MAX_ROUNDS_DEFAULT
    require_summary: bool = False

    @property
    def checked(self) -> bool:
        """Whether a worker's complete goes to review rather than straight to done."""
        return bool(self.acceptance) or self.by is not None

    def first_stage(self) -> str:
        return STAGE_ACCEPTANCE if self.acceptance else self.review_stage() or STAGE_HUMAN

    def review_stage(self) -> str | None:
        """The stage after acceptance passed; None: the task is done."""
        if self.by is None:
            return None
        return STAGE_HUMAN if self.by == HUMAN else STAGE_AGENT


def profile_of(settings: Settings, name: str | None) -> Profile | None:
    if not name:
        return None
    key = name.strip().lower()
    return next((p for n, p in settings.profiles.items() if n.strip().lower() == key), None)


def policy(settings: Settings, task: Task) -> Policy:
    profile = profile_of(settings, task.assignee)
    review = profile.review if profile else None
    by = review.by if review else None
    if task.review_by:
        by = None if task.review_by == NOBODY else task.review_by
    rounds = task.review_max_rounds or (review.max_rounds if review else MAX_ROUNDS_DEFAULT)
    if profile is None:
        return Policy(by=by, max_rounds=rounds)
    return Policy(tuple(profile.acceptance), profile.acceptance_timeout, by, rounds,
                  profile.require_summary)


def needs_start_approval(settings: Settings, task: Task) -> bool:
    """Whether a person must approve ``task`` before the dispatcher may start it (not yet done)."""
    if task.approval == "approved":
        return False
    profile = profile_of(settings, task.assignee)
    return task.requires_approval or bool(profile and profile.requires_approval)


def clean_review_by(value: str | None, assignee: str | None) -> str | None:
    """A task's ``review_by``: a profile name, ``human`` or ``none``; never its own assignee."""
    if value is None:
        return None
    v = value.strip().lower()
    if not v:
        return None
    if len(v) > 128:
        raise ValidationError("review_by is too long (at most 128 characters)")
    if v not in (HUMAN, NOBODY) and assignee and v == assignee.strip().lower():
        raise ValidationError(f"review_by is the task's own assignee {assignee!r}; a profile cannot "
                              "review its own work (name another profile, 'human' or 'none')")
    return v


def clean_max_rounds(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValidationError("review_max_rounds must be a whole number from 1 to 100")
    return value
