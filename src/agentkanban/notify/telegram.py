"""Telegram Bot API: ``sendMessage``, with ``message_thread_id`` for forum topics.

Telegram has no idempotency key: a notifier killed after Telegram accepted a message and before
the delivery was recorded sends it again on restart (at least once, never lost).
"""

from __future__ import annotations

from typing import Any

import httpx

from ..config import PlatformSettings
from .base import Destination, Message, bot_token, clip, json_body, post, redact, status_error

DEFAULT_API = "https://api.telegram.org"
MAX_TEXT = 4096


class TelegramAdapter:
    platform = "telegram"
    idempotent = False

    def __init__(self, settings: PlatformSettings, *, timeout: float = 10.0) -> None:
        self._token = bot_token(settings, "telegram")
        self._base = (settings.api_base or DEFAULT_API).rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def send(self, message: Message, dest: Destination) -> str:
        body: dict[str, Any] = {"chat_id": dest.chat_id, "text": clip(message.text, MAX_TEXT),
                                "disable_web_page_preview": True}
        if dest.thread_id:
            body["message_thread_id"] = int(dest.thread_id) if dest.thread_id.isdigit() else dest.thread_id
        resp = post(self._client, f"{self._base}/bot{self._token}/sendMessage", what="telegram",
                    json=body)
        data = json_body(resp)
        if resp.status_code == 200 and data.get("ok"):
            return str((data.get("result") or {}).get("message_id", ""))
        description = str(data.get("description") or resp.reason_phrase or "")
        params = data.get("parameters") or {}
        if isinstance(params, dict) and params.get("migrate_to_chat_id"):
            description += f" (the group is now chat {params['migrate_to_chat_id']}; subscribe that)"
        raise status_error(resp, "telegram", description,
                           body_retry_after=params.get("retry_after") if isinstance(params, dict) else None)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"TelegramAdapter({redact(self._base)})"
