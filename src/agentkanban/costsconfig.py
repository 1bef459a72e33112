"""The settings of costs and limits: budgets, providers and model prices (part of :mod:`.config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError
from .typedconfig import checks

USAGE_FORMATS = ("claude-json", "codex-json")


def usage_format(value: Any) -> str | None:
    """``usage_from`` of a profile: one of :data:`USAGE_FORMATS`, or null."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in USAGE_FORMATS:
        return value.strip().lower()
    raise ValidationError(f"unknown usage format {value!r}; use one of: {', '.join(USAGE_FORMATS)}")


@dataclass(frozen=True, slots=True)
class Limit:
    """Spending limits of one scope (a profile or a board) per UTC day and UTC calendar month.

    Tokens are every token an attempt reported: input, output, cache reads and cache writes.
    """

    daily_usd: float | None = field(default=None, metadata=checks(ge=0))
    monthly_usd: float | None = field(default=None, metadata=checks(ge=0))
    daily_tokens: int | None = field(default=None, metadata=checks(ge=0))
    monthly_tokens: int | None = field(default=None, metadata=checks(ge=0))


@dataclass(frozen=True, slots=True)
class Budgets:
    profiles: dict[str, Limit] = field(default_factory=dict)
    boards: dict[str, Limit] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Provider:
    """Profiles that share one API account: one concurrency cap, one rate-limit cool-down."""

    profiles: list[str] = field(default_factory=list)
    max_concurrency: int | None = field(default=None, metadata=checks(ge=1))


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per million tokens of one model, for agents that report tokens but no cost."""

    input_per_mtok: float = field(default=0.0, metadata=checks(ge=0))
    output_per_mtok: float = field(default=0.0, metadata=checks(ge=0))
    cache_read_per_mtok: float = field(default=0.0, metadata=checks(ge=0))
    cache_write_per_mtok: float = field(default=0.0, metadata=checks(ge=0))


def check_providers(providers: dict[str, Provider]) -> None:
    """A profile shares at most one account: two providers naming it is a mistake."""
    seen: dict[str, str] = {}
    for name, p in providers.items():
        for member in p.profiles:
            key = member.strip().lower()
            if key in seen:
                raise ValidationError(f"config: providers: profile {member!r} is in both "
                                      f"{seen[key]!r} and {name!r}; a profile uses one account")
            seen[key] = name
