"""Discord: ``POST /channels/{id}/messages`` as a bot.

Idempotent: every message carries a ``nonce`` derived from (event, destination) with
``enforce_nonce``, so Discord answers a resend after a crash with the message it already made
instead of posting a second one. A thread is a channel in Discord: a destination with a thread id
posts to the thread's channel.
"""

from __future__ import annotations

import httpx

from ..config import PlatformSettings
from .base import Destination, Message, bot_token, clip, json_body, post, redact, status_error

DEFAULT_API = "https://discord.com/api/v10"
MAX_TEXT = 2000
MAX_NONCE = 25


class DiscordAdapter:
    platform = "discord"
    idempotent = True

    def __init__(self, settings: PlatformSettings, *, timeout: float = 10.0) -> None:
        token = bot_token(settings, "discord")
        self._base = (settings.api_base or DEFAULT_API).rstrip("/")
        self._client = httpx.Client(timeout=timeout, headers={
            "Authorization": f"Bot {token}",
            "User-Agent": "DiscordBot (https://github.com/agentkanban, 0.1) agentkanban",
        })

    def send(self, message: Message, dest: Destination) -> str:
        channel = dest.thread_id or dest.chat_id
        body = {
            "content": clip(message.text, MAX_TEXT),
            "nonce": message.key[:MAX_NONCE],
            "enforce_nonce": True,
            # A task title or summary must not ping @everyone.
            "allowed_mentions": {"parse": []},
        }
        resp = post(self._client, f"{self._base}/channels/{channel}/messages", what="discord", json=body)
        data = json_body(resp)
        if 200 <= resp.status_code < 300:
            return str(data.get("id", ""))
        raise status_error(resp, "discord", str(data.get("message") or resp.reason_phrase or ""),
                           body_retry_after=data.get("retry_after"))

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"DiscordAdapter({redact(self._base)})"
