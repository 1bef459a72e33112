"""A generic, signed webhook: POST the message as JSON to a configured URL.

Headers:

- ``X-Kanban-Timestamp``: Unix seconds when the request was signed.
- ``X-Kanban-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}." + body`` with the
  configured secret (omitted when no secret is configured).
- ``X-Kanban-Idempotency-Key``: the same for every attempt of one (event, destination); a
  receiver that remembers keys it has seen never acts twice on one notification.
- ``X-Kanban-Event``: the event kind (``completed``, ``blocked``, ...).

Any 2xx is success; 408, 425, 429 and 5xx are retried (honouring ``Retry-After``); any other 4xx
is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from ..config import PlatformSettings
from ..errors import NotifyError
from .base import Destination, Message, json_body, log, post, register_secret, status_error

SIGNATURE_HEADER = "X-Kanban-Signature"
TIMESTAMP_HEADER = "X-Kanban-Timestamp"
KEY_HEADER = "X-Kanban-Idempotency-Key"
EVENT_HEADER = "X-Kanban-Event"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookAdapter:
    idempotent = True

    def __init__(self, platform: str, settings: PlatformSettings, *, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not settings.url:
            raise NotifyError(f"{platform}: no url configured", permanent=True)
        self.platform = platform
        self._url = settings.url
        # Hook URLs often carry a secret of their own in the path or query.
        parts = urlsplit(settings.url)
        register_secret(parts.path if len(parts.path) >= 8 else None)
        register_secret(parts.query or None)
        self._secret = settings.secret.get_secret_value() if settings.secret else None
        register_secret(self._secret)
        if self._secret is None:
            log.warning("%s: no secret configured; webhook requests are sent unsigned", platform)
        self._clock = clock
        self._client = httpx.Client(timeout=timeout)

    def send(self, message: Message, dest: Destination) -> str:
        body = json.dumps({**message.data, "id": message.key, "text": message.text,
                           "destination": {"platform": dest.platform, "chat_id": dest.chat_id,
                                           "thread_id": dest.thread_id}},
                          separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(self._clock()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   KEY_HEADER: message.key, EVENT_HEADER: str(message.data.get("kind", ""))}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        resp = post(self._client, self._url, what=self.platform, content=body, headers=headers)
        if 200 <= resp.status_code < 300:
            return str(json_body(resp).get("id", "") or "")
        raise status_error(resp, self.platform, resp.reason_phrase or "")

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"WebhookAdapter({self.platform})"
