"""The adapter protocol, the message and destination records, and HTTP helpers they share.

An adapter sends one message to one destination and returns the platform's id for it, or raises
:class:`~agentkanban.errors.NotifyError`: with ``permanent=True`` when retrying cannot help (bad
token, unknown chat), with ``retry_after`` when the platform said how long to wait. Error
messages never contain a token: adapters pass every text through :func:`redact` before raising.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..errors import NotifyError

log = logging.getLogger("agentkanban.notify")


@dataclass(frozen=True)
class Destination:
    platform: str
    chat_id: str
    thread_id: str = ""


@dataclass(frozen=True)
class Message:
    """What to say. ``key`` is stable per (event, destination): the idempotency key."""

    text: str
    key: str
    data: dict[str, Any] = field(default_factory=dict)  # structured form, for webhooks


class Adapter(Protocol):
    platform: str
    # True when a resend with the same key cannot make a second message (Discord, webhooks).
    idempotent: bool

    def send(self, message: Message, dest: Destination) -> str:
        """Post ``message``; return the platform's message id. Raises NotifyError."""
        ...

    def close(self) -> None: ...


# -- secrets never leave the process ------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every error text and log line the notifier (or httpx) produces."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def bot_token(settings: Any, platform: str) -> str:
    """The platform's bot token, registered for masking; a missing one is a permanent failure."""
    if settings.token is None:
        raise NotifyError(f"{platform}: no bot token configured", permanent=True)
    token: str = settings.token.get_secret_value()
    register_secret(token)
    return token


def redact(text: str) -> str:
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record whose rendered message contains a registered secret.

    httpx logs every request URL at INFO, and Telegram puts the bot token in the URL path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            rendered = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        clean = redact(rendered)
        if clean != rendered:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    for name in ("httpx", "agentkanban.notify"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# -- HTTP -------------------------------------------------------------------------------------

TRANSIENT_STATUS = frozenset({408, 425, 429})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def post(client: httpx.Client, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
    """POST, turning network failures into transient NotifyErrors with no URL in them."""
    try:
        return client.post(url, **kwargs)
    except httpx.TimeoutException:
        raise NotifyError(f"{what}: timed out") from None
    except httpx.HTTPError as err:
        # The exception text can carry the request URL (and so a token); keep only its class
        # and a redacted reason.
        reason = redact(str(err)).split("\n")[0][:200]
        raise NotifyError(f"{what}: {type(err).__name__}: {reason}") from None


def json_body(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def status_error(resp: httpx.Response, what: str, detail: str = "",
                 body_retry_after: Any = None) -> NotifyError:
    """The generic mapping: 408/425/429 and 5xx are transient, any other 4xx is permanent.
    ``body_retry_after`` is a wait the platform put in its JSON answer; it wins over the header."""
    code = resp.status_code
    text = f"{what}: HTTP {code}" + (f": {detail}" if detail else "")
    text = redact(text)[:1000]
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    if body_retry_after is not None:
        retry_after = parse_retry_after(str(body_retry_after)) or retry_after
    if code in TRANSIENT_STATUS or code >= 500:
        return NotifyError(text, retry_after=retry_after)
    return NotifyError(text, permanent=True)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
