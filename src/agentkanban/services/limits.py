"""The numeric limits of a task, checked once here for every surface (API, CLI, MCP, import).

The API's request schemas take their bounds from these constants so the OpenAPI document says the
same thing; the CLI and the MCP tools reach these checks through the task services.
"""

from __future__ import annotations

from ..errors import ValidationError

PRIORITY_MIN = -1_000_000_000
PRIORITY_MAX = 1_000_000_000
SECONDS_MAX = 1_000_000_000  # about 31 years: any longer runtime is a typo
RETRIES_MAX = 1_000


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number, got {value!r}")
    return value


def priority(value: object) -> int:
    v = _int(value, "priority")
    if not PRIORITY_MIN <= v <= PRIORITY_MAX:
        raise ValidationError(f"priority must be between {PRIORITY_MIN} and {PRIORITY_MAX}, got {v}")
    return v


def max_runtime(value: object | None) -> int | None:
    if value is None:
        return None
    v = _int(value, "max runtime")
    if not 1 <= v <= SECONDS_MAX:
        raise ValidationError(f"max runtime must be a positive number of seconds, at most {SECONDS_MAX}; "
                              f"got {v}")
    return v


def max_retries(value: object | None) -> int | None:
    if value is None:
        return None
    v = _int(value, "max retries")
    if not 1 <= v <= RETRIES_MAX:
        raise ValidationError(f"max retries must be between 1 and {RETRIES_MAX}, got {v}")
    return v
