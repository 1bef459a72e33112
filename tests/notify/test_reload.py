"""A platform added to config.yaml while the notifier runs is used without a restart."""

from __future__ import annotations

from agentkanban.services import Actor, subs, tasks, transitions
from agentkanban.services.configwatch import ConfigWatch

from .conftest import platform_config, write_config

USER = Actor("user")


def test_a_platform_added_to_the_config_sends_what_waited(configure, notifiers, webhook, home):
    ctx = configure({})
    n = notifiers(ctx)
    watch = ConfigWatch(ctx)
    t = tasks.create(ctx, "default", title="Ship it", actor=USER).task
    subs.subscribe(ctx, "default", t.id, platform="webhook", chat_id="ops")
    transitions.block(ctx, "default", t.id, actor=USER, reason="needs a key")
    assert n.tick() == 0 and n.platforms == []  # nothing to send with: the message waits
    write_config(home, {"webhook": platform_config(webhook)})
    assert watch.check() is True
    assert n.tick() == 1
    assert n.platforms == ["webhook"]
    assert [m["chat"] for m in webhook.messages] == ["ops"]
