"""The notifier against fake platforms: once per event and destination, in order, retried, failed."""

from __future__ import annotations

import threading
import time

from agentkanban.config import load_settings
from agentkanban.domain.statuses import Status
from agentkanban.notify import format
from agentkanban.notify.base import Destination
from agentkanban.notify.webhook import verify
from agentkanban.services import Actor, deliveries, health, subs, tasks, transitions

from .conftest import WEBHOOK_SECRET, platform_config
from .fakes import Reply, closed_port_url

USER = Actor("user")


def _task(ctx, title="Fix the login bug", assignee="coder"):
    return tasks.create(ctx, "default", title=title, actor=USER, assignee=assignee).task


def _statuses(ctx, task_id=None):
    return [d.status for d in deliveries.list_deliveries(ctx, "default", task_id)]


def test_one_message_per_event_and_destination(configure, notifiers, telegram, discord, slack, webhook):
    ctx = configure({"telegram": platform_config(telegram), "discord": platform_config(discord),
                     "slack": platform_config(slack), "webhook": platform_config(webhook)},
                    public_url="https://kanban.example.com/")
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="-1001", thread_id="7")
    subs.subscribe(ctx, "default", t.id, platform="discord", chat_id="555")
    subs.subscribe(ctx, "default", t.id, platform="slack", chat_id="C0123", thread_id="1700000000.000100")
    subs.subscribe(ctx, "default", t.id, platform="webhook", chat_id="ops")
    transitions.block(ctx, "default", t.id, actor=USER, reason="needs the staging password")
    transitions.unblock(ctx, "default", t.id, actor=USER)
    transitions.complete(ctx, "default", t.id, actor=USER, summary="Fixed the redirect loop\nmore text")

    n = notifiers(ctx)
    assert n.tick() == 8
    assert n.tick() == 0  # nothing is sent twice

    for fake, chat, thread in ((telegram, "-1001", "7"), (discord, "555", ""),
                               (slack, "C0123", "1700000000.000100"), (webhook, "ops", "")):
        assert [(m["chat"], m["thread"]) for m in fake.messages] == [(chat, thread)] * 2, fake.kind
        blocked, done = (m["text"] for m in fake.messages)
        assert blocked.startswith(f"⏸️ [default] {t.id} blocked: Fix the login bug")
        assert "Reason: needs the staging password" in blocked
        assert done.startswith(f"✅ [default] {t.id} done: Fix the login bug")
        assert "Assignee: @coder" in done and "Fixed the redirect loop" in done
        assert "more text" not in done
        assert f"https://kanban.example.com/?board=default&task={t.id}" in done
    # Telegram gets the topic as an integer message_thread_id.
    assert telegram.requests[0].json["message_thread_id"] == 7
    assert _statuses(ctx, t.id) == ["sent"] * 8
    assert all(d.message_id for d in deliveries.list_deliveries(ctx, "default", t.id))
    # Completing ended the subscriptions, after the final message was owed and sent.
    assert subs.list_subs(ctx, "default", t.id) == []


def test_webhook_is_signed_and_keyed(configure, notifiers, webhook):
    ctx = configure({"webhook": platform_config(webhook)})
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="webhook", chat_id="ops")
    transitions.complete(ctx, "default", t.id, actor=USER, summary="all good")
    notifiers(ctx).tick()

    [req] = webhook.requests
    h = req.headers
    assert verify(WEBHOOK_SECRET, h["x-kanban-timestamp"], req.body, h["x-kanban-signature"])
    assert not verify("wrong secret", h["x-kanban-timestamp"], req.body, h["x-kanban-signature"])
    assert not verify(WEBHOOK_SECRET, h["x-kanban-timestamp"], req.body + b" ", h["x-kanban-signature"])
    body = req.json
    assert body["id"] == h["x-kanban-idempotency-key"]
    assert h["x-kanban-event"] == body["kind"] == "completed"
    assert body["task"] == {"id": t.id, "board": "default", "title": "Fix the login bug",
                            "assignee": "coder", "status": "done"}
    assert body["destination"] == {"platform": "webhook", "chat_id": "ops", "thread_id": ""}
    assert body["summary"] == "all good"


def test_429_retry_after_is_honoured(configure, notifiers, clock, telegram, discord):
    ctx = configure({"telegram": platform_config(telegram), "discord": platform_config(discord)})
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="42")
    subs.subscribe(ctx, "default", t.id, platform="discord", chat_id="555")
    telegram.script.append(Reply(429, {"ok": False, "error_code": 429,
                                       "description": "Too Many Requests: retry after 30",
                                       "parameters": {"retry_after": 30}}))
    discord.script.append(Reply(429, {"message": "You are being rate limited.", "retry_after": 12.5,
                                      "global": False}, {"Retry-After": "13"}))
    transitions.complete(ctx, "default", t.id, actor=USER)
    n = notifiers(ctx)

    n.tick()
    assert (len(telegram.requests), len(discord.requests)) == (1, 1)
    by_platform = {d.platform: d for d in deliveries.list_deliveries(ctx, "default", t.id)}
    assert by_platform["telegram"].status == "pending"
    assert "429" in (by_platform["telegram"].last_error or "")
    assert by_platform["telegram"].next_attempt_at == clock() + 30
    assert by_platform["discord"].next_attempt_at == clock() + 12.5

    clock.advance(12)
    n.tick()
    assert (len(telegram.requests), len(discord.requests)) == (1, 1)
    clock.advance(1)
    n.tick()
    assert (len(telegram.requests), len(discord.requests)) == (1, 2)
    clock.advance(16.5)
    n.tick()
    assert (len(telegram.requests), len(discord.requests)) == (1, 2)
    clock.advance(1)
    n.tick()
    assert (len(telegram.requests), len(discord.requests)) == (2, 2)
    assert (len(telegram.messages), len(discord.messages)) == (1, 1)
    assert _statuses(ctx, t.id) == ["sent", "sent"]


def test_platform_down_then_back_gets_everything_in_order_once(configure, notifiers, clock, slack):
    home = {"chat_id": "C-home"}
    ctx = configure({"slack": platform_config(slack, home)})
    ids = []
    for i in range(4):
        t = _task(ctx, title=f"task {i}")
        h = subs.home_channel(ctx, "slack")
        subs.subscribe(ctx, "default", t.id, platform="slack", chat_id=h["chat_id"],
                       thread_id=h["thread_id"])
        ids.append(t.id)
    slack.down = True
    for tid in ids:
        transitions.complete(ctx, "default", tid, actor=USER, summary=f"summary of {tid}")
    n = notifiers(ctx)
    for _ in range(6):  # a long outage: each pass tries only the oldest message, then backs off
        n.tick()
        clock.advance(700)
    assert slack.messages == []
    assert all(r.json["text"].startswith(f"✅ [default] {ids[0]} ") for r in slack.requests)
    assert _statuses(ctx)[:1] == ["pending"]

    slack.down = False
    clock.advance(700)
    n.tick()
    assert [m["text"].split()[2] for m in slack.messages] == ids
    assert n.tick() == 0
    clock.advance(700)
    assert n.tick() == 0
    assert len(slack.messages) == 4
    assert _statuses(ctx) == ["sent"] * 4


def test_backoff_keeps_later_messages_behind_the_first(configure, notifiers, clock, discord, telegram):
    ctx = configure({"discord": platform_config(discord), "telegram": platform_config(telegram)})
    a, b = _task(ctx, "first"), _task(ctx, "second")
    for t in (a, b):
        subs.subscribe(ctx, "default", t.id, platform="discord", chat_id="555")
    subs.subscribe(ctx, "default", b.id, platform="telegram", chat_id="42")
    discord.script.append(Reply(502, {"message": "Bad Gateway"}))
    transitions.complete(ctx, "default", a.id, actor=USER)
    transitions.complete(ctx, "default", b.id, actor=USER)
    n = notifiers(ctx)
    n.tick()
    # Discord's first message is backing off, so its second waits; Telegram is not held up.
    assert discord.messages == [] and len(discord.requests) == 1
    assert len(telegram.messages) == 1
    clock.advance(2)
    n.tick()
    assert [m["text"].split(": ", 1)[1].splitlines()[0] for m in discord.messages] == ["first", "second"]


def test_permanent_error_is_recorded_and_not_retried(configure, notifiers, clock, telegram, slack):
    ctx = configure({"telegram": platform_config(telegram), "slack": platform_config(slack)})
    t = _task(ctx)
    telegram.unknown_chats.add("-404")
    slack.unknown_chats.add("C-gone")
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="-404")
    subs.subscribe(ctx, "default", t.id, platform="slack", chat_id="C-gone")
    subs.subscribe(ctx, "default", t.id, platform="slack", chat_id="C-ok")
    transitions.block(ctx, "default", t.id, actor=USER, reason="waiting")
    n = notifiers(ctx)
    n.tick()
    for _ in range(3):
        clock.advance(3600)
        n.tick()
    assert len(telegram.requests) == 1
    assert len(slack.requests) == 2
    got = {(d.platform, d.chat_id): d for d in deliveries.list_deliveries(ctx, "default", t.id)}
    assert got["telegram", "-404"].status == "failed"
    assert got["telegram", "-404"].last_error == "telegram: HTTP 400: Bad Request: chat not found"
    assert got["slack", "C-gone"].status == "failed"
    assert got["slack", "C-gone"].last_error == "slack: channel_not_found"
    assert got["slack", "C-ok"].status == "sent"

    # Once the bot is in the chat, a person can queue it again.
    telegram.unknown_chats.clear()
    deliveries.retry(ctx, "default", got["telegram", "-404"].id)
    n.tick()
    assert len(telegram.messages) == 1


def test_bad_token_fails_without_leaking_it(configure, notifiers, caplog, telegram, discord, slack):
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="httpx")  # `kanban notifier` quietens it in-process
    wrong = {"telegram": "999:WRONG-telegram-token-ZZZZZZ", "discord": "WRONG-discord-token-ZZZZZZ",
             "slack": "xoxb-WRONG-slack-token-ZZZZZZ"}
    ctx = configure({name: {**platform_config(fake), "token": wrong[name]}
                     for name, fake in (("telegram", telegram), ("discord", discord), ("slack", slack))})
    t = _task(ctx)
    for p in wrong:
        subs.subscribe(ctx, "default", t.id, platform=p, chat_id="1")
    transitions.complete(ctx, "default", t.id, actor=USER)
    notifiers(ctx).tick()
    errors = {d.platform: d.last_error for d in deliveries.list_deliveries(ctx, "default", t.id)}
    assert _statuses(ctx, t.id) == ["failed"] * 3
    assert errors["telegram"] == "telegram: HTTP 401: Unauthorized"
    assert errors["discord"] == "discord: HTTP 401: 401: Unauthorized"
    assert errors["slack"] == "slack: invalid_auth"
    assert "HTTP Request" in caplog.text  # httpx logged the Telegram URL...
    for token in wrong.values():  # ...with the token masked
        assert token not in caplog.text
        assert all(token not in (e or "") for e in errors.values())


def test_unreachable_platform_is_retried_and_token_never_shown(configure, notifiers, caplog, clock):
    caplog.set_level("DEBUG")
    token = "777:unreachable-secret-token-QQQQ"
    # Nothing listens there: every attempt is a connection error.
    ctx = configure({"telegram": {"token": token, "api_base": closed_port_url()}},
                    give_up_after="1h")
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="42")
    transitions.complete(ctx, "default", t.id, actor=USER)
    n = notifiers(ctx)
    seen = []
    for _ in range(30):
        n.tick()
        [d] = deliveries.list_deliveries(ctx, "default", t.id)
        seen.append((d.status, d.attempts))
        if d.status == "failed":
            break
        clock.advance(d.next_attempt_at - clock())
    assert seen[0] == ("pending", 1)
    assert d.status == "failed" and d.attempts >= 5
    assert d.last_error.startswith("gave up after")
    assert "ConnectError" in d.last_error
    assert token not in caplog.text and token not in d.last_error


def test_claimed_but_unrecorded_delivery_is_resent_after_its_lease(configure, notifiers, clock, discord):
    """A notifier that died after claiming: the next one waits out the lease, then resends."""
    ctx = configure({"discord": platform_config(discord)}, timeout_seconds=5)
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="discord", chat_id="555")
    transitions.complete(ctx, "default", t.id, actor=USER)
    n = notifiers(ctx)
    # The first notifier claims it and sends it, then "dies" before recording the answer.
    job = deliveries.claim_next(ctx, ["discord"], lease_seconds=n.lease_seconds)
    assert job is not None and job.delivery.status == "sending"
    dest = Destination("discord", "555")
    n.adapters["discord"].send(format.render(job.task, job.event, dest), dest)
    assert len(discord.messages) == 1

    assert n.tick() == 0  # still leased to the dead notifier
    clock.advance(n.lease_seconds)
    assert n.tick() == 1
    assert len(discord.requests) == 2
    assert discord.requests[0].json["nonce"] == discord.requests[1].json["nonce"]
    assert len(discord.messages) == 1  # Discord's enforce_nonce returned the first message
    [d] = deliveries.list_deliveries(ctx, "default", t.id)
    assert (d.status, d.attempts, d.message_id) == ("sent", 2, discord.messages[0]["id"])


def test_subscriptions_end_with_the_task_after_the_final_message(configure, notifiers, discord):
    ctx = configure({"discord": platform_config(discord)})
    done, archived = _task(ctx, "done one"), _task(ctx, "archived one")
    for t in (done, archived):
        subs.subscribe(ctx, "default", t.id, platform="discord", chat_id="555")
    transitions.block(ctx, "default", done.id, actor=USER, reason="r")
    assert len(subs.list_subs(ctx, "default", done.id)) == 1  # blocked is not the end
    transitions.unblock(ctx, "default", done.id, actor=USER)
    transitions.complete(ctx, "default", done.id, actor=USER, summary="s")
    transitions.archive(ctx, "default", archived.id, actor=USER)
    assert subs.list_subs(ctx, "default") == []
    notifiers(ctx).tick()
    assert [m["text"].split()[2:4] for m in discord.messages] == [[done.id, "blocked:"], [done.id, "done:"]]
    assert tasks.get(ctx, "default", done.id).status is Status.DONE


def test_gave_up_and_crash_messages(configure, notifiers, webhook):
    from agentkanban.services import runs

    ctx = configure({"webhook": platform_config(webhook)})
    t = tasks.create(ctx, "default", title="Flaky job", actor=USER, assignee="bot", max_retries=1).task
    subs.subscribe(ctx, "default", t.id, platform="webhook", chat_id="ops")
    claim = runs.claim(ctx, "default", t.id, profile="bot", lock="host:1", ttl=60)
    assert claim is not None
    runs.end_attempt(ctx, "default", t.id, claim.run_id, outcome="crashed",
                     error="exit code 137\nstderr...", count_failure=True, failure_limit=3)
    notifiers(ctx).tick()
    texts = [m["text"] for m in webhook.messages]
    assert [x.splitlines()[0] for x in texts] == [
        f"💥 [default] {t.id} worker crashed: Flaky job",
        f"🛑 [default] {t.id} gave up after 1 failed attempts: Flaky job",
    ]
    assert "Error: exit code 137" in texts[0]
    assert "Last error: exit code 137" in texts[1]


def test_run_wakes_on_new_events_and_stops(configure, notifiers, telegram):
    ctx = configure({"telegram": platform_config(telegram)}, interval_seconds=300)
    t = _task(ctx)
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="42")
    n = notifiers(ctx)
    thread = threading.Thread(target=n.run, daemon=True)
    thread.start()
    transitions.complete(ctx, "default", t.id, actor=USER)  # the listener wakes the loop
    deadline = time.monotonic() + 30
    while not telegram.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    n.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert len(telegram.messages) == 1


def test_home_channels_need_both_token_and_home(home, db_url, clock):
    from agentkanban.services import open_ctx

    env = {"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url,
           "TELEGRAM_BOT_TOKEN": "1:tg", "TELEGRAM_HOME_CHANNEL": "-100", "TELEGRAM_HOME_CHANNEL_THREAD_ID": "9",
           "TELEGRAM_HOME_CHANNEL_NAME": "Ops room",
           "DISCORD_HOME_CHANNEL": "555",  # no token
           "SLACK_BOT_TOKEN": "xoxb-1"}  # no home
    ctx = open_ctx(load_settings(env), clock=clock)
    assert subs.home_channels(ctx) == [
        {"platform": "telegram", "chat_id": "-100", "thread_id": "9", "name": "Ops room"}]
    t = _task(ctx)
    home_tg = subs.home_channel(ctx, "telegram")
    assert subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id=home_tg["chat_id"],
                          thread_id=home_tg["thread_id"])
    assert not subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="-100", thread_id="9")
    assert [(s.platform, s.chat_id, s.thread_id) for s in subs.list_subs(ctx, "default", t.id)] == [
        ("telegram", "-100", "9")]


def test_two_notifiers_at_once_send_each_message_once(configure, notifiers, telegram, slack):
    """`kanban serve` and `kanban notifier` on one database: every delivery is claimed once."""
    ctx = configure({"telegram": platform_config(telegram), "slack": platform_config(slack)})
    ids = []
    for i in range(8):
        t = _task(ctx, title=f"job {i}")
        subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id=f"chat-{i % 3}")
        subs.subscribe(ctx, "default", t.id, platform="slack", chat_id="C1")
        ids.append(t.id)
    for tid in ids:
        transitions.complete(ctx, "default", tid, actor=USER)
    a, b = notifiers(ctx), notifiers(ctx)
    errors: list[BaseException] = []

    def drain(n):
        try:
            for _ in range(20):
                n.tick()
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=drain, args=(n,)) for n in (a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []
    assert _statuses(ctx) == ["sent"] * 16
    assert len(telegram.requests) == len(telegram.messages) == 8
    assert len(slack.requests) == len(slack.messages) == 8
    # Slack's single channel got them in event order even with two senders.
    assert [m["text"].split()[2] for m in slack.messages] == ids


def test_notifier_liveness_is_visible(configure, notifiers, clock, telegram):
    ctx = configure({"telegram": platform_config(telegram)})
    assert health.notifier_status(ctx) is None
    n = notifiers(ctx)
    n.tick()
    status = health.notifier_status(ctx)
    assert status is not None and status["alive"] and status["platforms"] == ["telegram"]
    clock.advance(5)
    n.tick()  # idle passes do not write every time
    assert health.notifier_status(ctx)["last_tick"] == status["last_tick"]
    clock.advance(120)
    assert health.notifier_status(ctx)["alive"] is False
    n.tick()
    assert health.notifier_status(ctx)["alive"] is True


def test_a_platform_that_is_down_costs_one_request_per_pass(configure, notifiers, clock, slack, telegram):
    ctx = configure({"slack": platform_config(slack), "telegram": platform_config(telegram)})
    t = _task(ctx)
    for chat in ("C1", "C2", "C3"):
        subs.subscribe(ctx, "default", t.id, platform="slack", chat_id=chat)
    subs.subscribe(ctx, "default", t.id, platform="telegram", chat_id="42")
    slack.down = True
    transitions.complete(ctx, "default", t.id, actor=USER)
    n = notifiers(ctx)
    n.tick()
    assert len(slack.requests) == 1  # the other chats wait for the next pass...
    assert len(telegram.messages) == 1  # ...and nothing else is held up
    n.tick()
    n.tick()
    assert sorted(r.json["channel"] for r in slack.requests) == ["C1", "C2", "C3"]
    slack.down = False
    clock.advance(2)
    n.tick()
    assert sorted(m["chat"] for m in slack.messages) == ["C1", "C2", "C3"]
    assert _statuses(ctx, t.id) == ["sent"] * 4
