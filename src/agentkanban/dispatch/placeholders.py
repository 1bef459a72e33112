"""A profile's command with its placeholders filled in: shared by the dispatcher and the runner."""

from __future__ import annotations


def substitute(arg: str, values: dict[str, str]) -> str:
    """Fill ``{task_id}``-style placeholders; other braces (JSON in a prompt) are left alone."""
    for key, val in values.items():
        arg = arg.replace("{" + key + "}", val)
    return arg
