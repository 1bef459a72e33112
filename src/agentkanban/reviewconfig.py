"""How a profile's work is checked before it counts as done (part of :mod:`.config`):
``review``, ``acceptance``, ``require_summary`` and ``requires_approval``; see docs/review.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError
from .typedconfig import checks

HUMAN = "human"  # ``review.by``: a person decides
NOBODY = "none"  # a task's ``review_by`` that turns its profile's review off
MAX_ROUNDS_DEFAULT = 3


def reviewer_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("must be a profile name or 'human'")
    return value.strip().lower()


@dataclass(frozen=True, slots=True)
class Review:
    """``by``: the profile whose attempt reviews this profile's work, or ``human``.
    ``max_rounds``: requests for changes (acceptance failures included) before the task is
    blocked for a person instead of going round again."""

    by: str = field(metadata=checks(parse=reviewer_name))
    max_rounds: int = field(default=MAX_ROUNDS_DEFAULT, metadata=checks(ge=1, le=100))


def check_reviews(profiles: Mapping[str, Any]) -> None:
    """At load: a profile never reviews its own work, and a reviewer is a profile or ``human``."""
    names = {n.strip().lower() for n in profiles}
    for name, p in profiles.items():
        review = getattr(p, "review", None)
        if review is None:
            continue
        if review.by == name.strip().lower():
            raise ValidationError(f"config: profiles: {name}: review.by names the profile itself; "
                                  "a profile cannot review its own work (use another profile or 'human')")
        if review.by != HUMAN and review.by not in names:
            raise ValidationError(f"config: profiles: {name}: review.by is {review.by!r}, which is not a "
                                  f"profile (profiles: {', '.join(sorted(names))}; or 'human')")
