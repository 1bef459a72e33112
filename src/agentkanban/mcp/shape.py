"""What every tool returns: ``{"ok": true, ...}`` or ``{"ok": false, "error": {...}}``.

The payload goes out twice: as JSON text (what most agent CLIs show the model) and as
structured content (what clients that read ``structuredContent`` use). Errors set ``isError``
so a client knows the call did not do what was asked, and carry a ``type`` the agent can branch
on plus ``retryable`` (whether trying the same call again later can succeed).
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp.types import CallToolResult, TextContent

from ..domain.text import scrub
from ..errors import Conflict, Forbidden, KanbanError, NotFound, StorageError, ValidationError

# What an agent should do next for each error family; kept to one line each.
HINTS: dict[type[KanbanError], str] = {
    Forbidden: "do not retry; this call is not allowed for this worker or attempt",
    NotFound: "check the id (kanban_list or kanban_show) and the board",
    ValidationError: "fix the arguments and call again",
    Conflict: "reload with kanban_show; the task changed or is in a status that refuses this",
    StorageError: "the board's database failed; retry shortly",
}


def _payload_result(payload: dict[str, Any], *, error: bool) -> CallToolResult:
    text = scrub(json.dumps(payload, default=str, ensure_ascii=False))  # never fail on stored text
    # Round-trip so structured content is plain JSON types (timestamps, enums, tuples).
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=json.loads(text), is_error=error)


def ok(**data: Any) -> CallToolResult:
    return _payload_result({"ok": True, **data}, error=False)


def fail(kind: str, message: str, *, retryable: bool = False, hint: str | None = None,
         **extra: Any) -> CallToolResult:
    err: dict[str, Any] = {"type": kind, "message": message, "retryable": retryable}
    if hint:
        err["hint"] = hint
    err.update(extra)
    return _payload_result({"ok": False, "error": err}, error=True)


def from_error(err: KanbanError) -> CallToolResult:
    """Map the product's exception family to the tool error shape, in this one place."""
    hint = next((h for cls, h in HINTS.items() if isinstance(err, cls)), None)
    retryable = isinstance(err, StorageError) or type(err) is Conflict
    return fail(type(err).__name__, err.message, retryable=retryable, hint=hint)


# Secrets that must not travel from a worker's output into the board (and from there into the
# next worker's prompt, a dashboard or a chat notification).
_SECRET_PATTERNS = [
    re.compile(r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,})"),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,})"),
    re.compile(r"\b(github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})"),
    re.compile(r"\b(AKIA[0-9A-Z]{16})\b"),
    re.compile(r"\b(AIza[0-9A-Za-z_\-]{30,})"),
    re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._\-~+/]{16,}=*)"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
]


def redact(text: str | None) -> str | None:
    if not text:
        return text
    for pat in _SECRET_PATTERNS:
        if pat.groups:
            text = pat.sub(lambda m: m.group(0).replace(m.group(1), "[REDACTED]"), text)
        else:
            text = pat.sub("[REDACTED]", text)
    return text


def redact_json(value: Any) -> Any:
    """Redact every string inside a JSON-like value (metadata)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value
