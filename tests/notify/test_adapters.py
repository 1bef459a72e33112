"""Each adapter against its fake platform: request shape, success, and how errors are classified."""

from __future__ import annotations

import email.utils
import time

import pytest

from agentkanban.config import PlatformSettings, Secret
from agentkanban.errors import NotifyError
from agentkanban.notify.base import Destination, Message, parse_retry_after, redact
from agentkanban.notify.discord import DiscordAdapter
from agentkanban.notify.slack import SlackAdapter
from agentkanban.notify.telegram import TelegramAdapter
from agentkanban.notify.webhook import WebhookAdapter, sign

from .conftest import DISCORD_TOKEN, SLACK_TOKEN, TELEGRAM_TOKEN, WEBHOOK_SECRET
from .fakes import Reply, closed_port_url

MSG = Message(text="hello @everyone", key="ak-0123456789abcdef012345", data={"kind": "completed"})


def _send(adapter, dest, message=MSG):
    try:
        return adapter.send(message, dest)
    finally:
        adapter.close()


def _error(adapter, dest) -> NotifyError:
    with pytest.raises(NotifyError) as info:
        _send(adapter, dest)
    return info.value


def tg(fake, token=TELEGRAM_TOKEN):
    return TelegramAdapter(PlatformSettings(token=Secret(token), api_base=fake.base))


def dc(fake, token=DISCORD_TOKEN):
    return DiscordAdapter(PlatformSettings(token=Secret(token), api_base=fake.base))


def sl(fake, token=SLACK_TOKEN):
    return SlackAdapter(PlatformSettings(token=Secret(token), api_base=fake.base))


def wh(fake, secret=WEBHOOK_SECRET, clock=time.time):
    settings = PlatformSettings(url=f"{fake.base}/hook", secret=Secret(secret) if secret else None)
    return WebhookAdapter("webhook", settings, clock=clock)


def test_telegram_send(telegram):
    mid = _send(tg(telegram), Destination("telegram", "-100", "12"))
    [req] = telegram.requests
    assert req.path == f"/bot{TELEGRAM_TOKEN}/sendMessage"
    assert req.json == {"chat_id": "-100", "text": "hello @everyone", "message_thread_id": 12,
                        "disable_web_page_preview": True}
    assert mid == telegram.messages[0]["id"]


def test_telegram_errors(telegram):
    telegram.script += [
        Reply(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7}}),
        Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded",
                    "parameters": {"migrate_to_chat_id": -1009}}),
        Reply(502, None),
    ]
    dest = Destination("telegram", "-100")
    e = _error(tg(telegram), dest)
    assert (e.permanent, e.retry_after) == (False, 7.0)
    e = _error(tg(telegram), dest)
    assert e.permanent and "now chat -1009" in e.message
    e = _error(tg(telegram), dest)
    assert (e.permanent, e.retry_after, e.message) == (False, None, "telegram: HTTP 502: Bad Gateway")
    e = _error(tg(telegram, token="1:wrong-token-for-this-bot"), dest)
    assert e.permanent and e.message == "telegram: HTTP 401: Unauthorized"


def test_discord_send_uses_nonce_and_thread_channel(discord):
    mid = _send(dc(discord), Destination("discord", "555", "777"))
    [req] = discord.requests
    assert req.path == "/channels/777/messages"  # a Discord thread is a channel
    assert req.headers["authorization"] == f"Bot {DISCORD_TOKEN}"
    assert req.json == {"content": "hello @everyone", "nonce": MSG.key, "enforce_nonce": True,
                        "allowed_mentions": {"parse": []}}
    assert len(MSG.key) <= 25
    # The same nonce again: Discord hands back the first message instead of posting another.
    assert _send(dc(discord), Destination("discord", "555", "777")) == mid
    assert len(discord.messages) == 1


def test_discord_errors(discord):
    discord.script += [
        Reply(429, {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
              {"Retry-After": "2"}),
        Reply(403, {"message": "Missing Access", "code": 50001}),
    ]
    dest = Destination("discord", "555")
    e = _error(dc(discord), dest)
    assert (e.permanent, e.retry_after) == (False, 1.5)
    e = _error(dc(discord), dest)
    assert e.permanent and e.message == "discord: HTTP 403: Missing Access"
    discord.unknown_chats.add("404")
    e = _error(dc(discord), Destination("discord", "404"))
    assert e.permanent and "Unknown Channel" in e.message


def test_slack_send_with_thread(slack):
    ts = _send(sl(slack), Destination("slack", "C1", "1700000000.000100"))
    [req] = slack.requests
    assert req.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert req.json["channel"] == "C1" and req.json["thread_ts"] == "1700000000.000100"
    assert ts.startswith("1700000000.")


def test_slack_text_cannot_ping_the_channel(slack):
    msg = Message(text="done: <!channel> fix a < b & c", key="k")
    _send(sl(slack), Destination("slack", "C1"), msg)
    assert slack.requests[0].json["text"] == "done: &lt;!channel&gt; fix a &lt; b &amp; c"


def test_slack_ok_false_is_classified(slack):
    slack.script += [
        Reply(200, {"ok": False, "error": "not_in_channel"}),
        Reply(200, {"ok": False, "error": "internal_error"}),
        Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}),
    ]
    dest = Destination("slack", "C1")
    e = _error(sl(slack), dest)
    assert e.permanent and e.message == "slack: not_in_channel"
    e = _error(sl(slack), dest)
    assert not e.permanent and e.message == "slack: internal_error"
    e = _error(sl(slack), dest)
    assert (e.permanent, e.retry_after) == (False, 30.0)


def test_webhook_signature_and_errors(webhook):
    now = 1_700_000_000.0
    _send(wh(webhook, clock=lambda: now), Destination("webhook", "ops"))
    [req] = webhook.requests
    assert req.headers["x-kanban-timestamp"] == "1700000000"
    assert req.headers["x-kanban-signature"] == sign(WEBHOOK_SECRET, "1700000000", req.body)
    assert req.headers["x-kanban-idempotency-key"] == MSG.key

    webhook.script += [Reply(503, None, {"Retry-After": "5"}), Reply(410, None)]
    e = _error(wh(webhook), Destination("webhook", "ops"))
    assert (e.permanent, e.retry_after) == (False, 5.0)
    e = _error(wh(webhook), Destination("webhook", "ops"))
    assert e.permanent and e.message == "webhook: HTTP 410: Gone"


def test_webhook_without_secret_is_sent_unsigned(webhook):
    _send(wh(webhook, secret=None), Destination("webhook", "ops"))
    assert "x-kanban-signature" not in webhook.requests[0].headers


def test_network_errors_are_transient_and_never_show_the_token():
    token = "4242:network-error-secret-token"
    adapter = TelegramAdapter(PlatformSettings(token=Secret(token), api_base=closed_port_url()))
    e = _error(adapter, Destination("telegram", "1"))
    assert not e.permanent
    assert token not in str(e) and token not in repr(e)
    assert e.__cause__ is None and e.__suppress_context__


def test_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(1_000_060, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == 60.0


def test_redact_masks_registered_secrets():
    TelegramAdapter(PlatformSettings(token=Secret("99:registered-secret-value"), api_base="http://x")).close()
    assert redact("POST http://x/bot99:registered-secret-value/sendMessage") == "POST http://x/bot***/sendMessage"
