"""The notification commands: notify-subscribe, notify-list, notify-unsubscribe, notify-retry, notifier."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agentkanban.cli import cli
from agentkanban.services import Actor, tasks, transitions

from .conftest import TELEGRAM_TOKEN, platform_config, write_config

USER = Actor("user")


@pytest.fixture
def run(monkeypatch, home, db_url):
    for name in ("KANBAN_BOARD", "KANBAN_TASK_ID", "TELEGRAM_BOT_TOKEN", "TELEGRAM_HOME_CHANNEL",
                 "DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KANBAN_HOME", str(home))
    monkeypatch.setenv("KANBAN_DATABASE_URL", db_url)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(cli, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


def test_subscribe_list_unsubscribe(run, configure, telegram):
    ctx = configure({"telegram": platform_config(telegram)})
    t = tasks.create(ctx, "default", title="Ship it", actor=USER).task

    out = run("notify-subscribe", t.id, "--platform", "telegram", "--chat-id", "-100", "--thread-id", "7")
    assert out.output.strip() == f"{t.id} -> telegram:-100 thread 7"
    again = run("notify-subscribe", t.id, "--platform", "Telegram", "--chat-id", "-100", "--thread-id", "7")
    assert "(already subscribed)" in again.output

    data = json.loads(run("notify-list", t.id, "--json").output)
    assert [(s["platform"], s["chat_id"], s["thread_id"]) for s in data["subscriptions"]] == [
        ("telegram", "-100", "7")]
    assert data["deliveries"] == []

    run("notify-unsubscribe", t.id, "--platform", "telegram", "--chat-id", "-100", "--thread-id", "7")
    gone = run("notify-unsubscribe", t.id, "--platform", "telegram", "--chat-id", "-100",
               "--thread-id", "7", code=1)
    assert "no such subscription" in gone.output
    assert "subscriptions: none" in run("notify-list", t.id).output


def test_failed_delivery_is_listed_with_its_error_and_can_be_retried(run, configure, telegram):
    ctx = configure({"telegram": platform_config(telegram)})
    t = tasks.create(ctx, "default", title="Ship it", actor=USER).task
    telegram.unknown_chats.add("-404")
    run("notify-subscribe", t.id, "--platform", "telegram", "--chat-id", "-404")
    run("notify-subscribe", t.id, "--platform", "telegram", "--chat-id", "-200")
    transitions.block(ctx, "default", t.id, actor=USER, reason="need a key")

    assert "notifier: never ran" in run("notify-list").output
    assert run("notifier", "--once").output.strip() == "2 deliveries attempted"
    text = run("notify-list").output
    assert "notifier: running, sending to telegram" in text
    assert f"{t.id} blocked -> telegram:-404: failed" in text
    assert "error: telegram: HTTP 400: Bad Request: chat not found" in text
    assert f"{t.id} blocked -> telegram:-200: sent" in text

    data = json.loads(run("notify-list", t.id, "--json").output)
    failed = [d for d in data["deliveries"] if d["status"] == "failed"]
    assert [(d["chat_id"], d["kind"]) for d in failed] == [("-404", "blocked")]
    assert TELEGRAM_TOKEN not in json.dumps(data)

    telegram.unknown_chats.clear()
    assert run("notify-retry", str(failed[0]["id"])).output.strip() == f"#{failed[0]['id']} queued again"
    run("notify-retry", str(failed[0]["id"]), code=1)  # pending now: nothing to retry
    assert run("notifier", "--once").output.strip() == "1 deliveries attempted"
    assert len(telegram.messages) == 2


def test_notifier_refuses_to_run_with_nothing_configured(run, home):
    write_config(home, {})
    out = run("notifier", code=1)
    assert "no notification platform is configured" in out.output


def test_unknown_task_is_refused(run, configure, telegram):
    configure({"telegram": platform_config(telegram)})
    result = CliRunner().invoke(cli, ["notify-list", "t_nope"])
    assert result.exit_code != 0


def test_deliveries_for_an_unconfigured_platform_wait_and_say_why(run, configure, telegram):
    ctx = configure({"telegram": platform_config(telegram)})
    t = tasks.create(ctx, "default", title="Ship it", actor=USER).task
    run("notify-subscribe", t.id, "--platform", "discord", "--chat-id", "555")
    transitions.complete(ctx, "default", t.id, actor=USER)
    assert run("notifier", "--once").output.strip() == "0 deliveries attempted"
    assert "pending (discord is not configured here" in run("notify-list", t.id).output
