"""Slack Web API: ``chat.postMessage``, with ``thread_ts`` to reply in a thread.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "..."}``; the error code
decides whether a retry can help. Slack has no idempotency key for bot messages: a notifier
killed after Slack accepted a message and before recording it sends it again on restart.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..config import PlatformSettings
from ..errors import NotifyError
from .base import (
    Destination,
    Message,
    bot_token,
    clip,
    json_body,
    parse_retry_after,
    post,
    redact,
    status_error,
)

DEFAULT_API = "https://slack.com/api"
MAX_TEXT = 3900  # Slack truncates past 40k, and recommends staying under 4k
TRANSIENT_ERRORS = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error",
                              "service_unavailable", "request_timeout", "team_added_to_org"})


def escape(text: str) -> str:
    """Slack reads ``<...>`` as links and mentions (``<!channel>`` pings everyone); these three
    characters are the escaping Slack documents, and it shows them back as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackAdapter:
    platform = "slack"
    idempotent = False

    def __init__(self, settings: PlatformSettings, *, timeout: float = 10.0) -> None:
        token = bot_token(settings, "slack")
        self._base = (settings.api_base or DEFAULT_API).rstrip("/")
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def send(self, message: Message, dest: Destination) -> str:
        body: dict[str, Any] = {"channel": dest.chat_id, "text": escape(clip(message.text, MAX_TEXT)),
                                "unfurl_links": False, "unfurl_media": False}
        if dest.thread_id:
            body["thread_ts"] = dest.thread_id
        resp = post(self._client, f"{self._base}/chat.postMessage", what="slack", json=body)
        data = json_body(resp)
        if resp.status_code != 200:
            raise status_error(resp, "slack", str(data.get("error") or resp.reason_phrase or ""))
        if data.get("ok"):
            return str(data.get("ts", ""))
        code = str(data.get("error") or "unknown_error")
        text = redact(f"slack: {code}")
        if code in TRANSIENT_ERRORS:
            raise NotifyError(text, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        raise NotifyError(text, permanent=True)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"SlackAdapter({redact(self._base)})"
