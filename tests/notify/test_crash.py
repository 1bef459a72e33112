"""``kanban notifier`` killed with SIGKILL while a request is in flight, then restarted.

The fake platform acts on the request and then holds its reply, so the kill lands in the worst
place: the message exists on the platform but the delivery is not recorded as sent. The
restarted notifier must deliver it (nothing lost) and, on platforms with idempotency, must not
make a second message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentkanban.services import Actor, deliveries, subs, tasks, transitions

from .conftest import SECRETS, platform_config

USER = Actor("user")
HTTP_TIMEOUT = 2.0  # the lease is about twice this: how long the restarted notifier waits


def _start(home: Path, db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KANBAN_", "TELEGRAM_", "DISCORD_", "SLACK_"))}
    env.update(KANBAN_HOME=str(home), KANBAN_DATABASE_URL=db_url)
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "agentkanban", "notifier"], env=env,
                                stdout=out, stderr=out)


def _wait_for(pred, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["discord", "webhook", "telegram"])
def test_sigkill_mid_delivery_loses_nothing_and_doubles_nothing(
        platform, request, configure, home, db_url, tmp_path):
    fake = request.getfixturevalue(platform)
    ctx = configure({platform: platform_config(fake)}, interval_seconds=0.1,
                    timeout_seconds=HTTP_TIMEOUT)
    t = tasks.create(ctx, "default", title="Nightly import", actor=USER, assignee="etl").task
    subs.subscribe(ctx, "default", t.id, platform=platform, chat_id="555", thread_id="")
    transitions.complete(ctx, "default", t.id, actor=USER, summary="imported 42 rows")

    def delivery():
        [d] = deliveries.list_deliveries(ctx, "default", t.id)
        return d

    log = tmp_path / "notifier.log"
    fake.stall_next = True
    first = _start(home, db_url, log)
    try:
        assert fake.stalled.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(30)
    fake.release.set()
    assert len(fake.messages) == 1  # the platform acted on it...
    d = delivery()
    assert (d.status, d.attempts) == ("sending", 1)  # ...and the notifier never heard back

    second = _start(home, db_url, log)
    try:
        _wait_for(lambda: delivery().status == "sent", "the restarted notifier to deliver")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0

    d = delivery()
    assert d.attempts == 2
    assert len(fake.requests) == 2
    if platform == "telegram":
        # No idempotency in the Bot API: at least once, so the kill window costs a repeat.
        assert len(fake.messages) == 2
        assert fake.messages[0]["text"] == fake.messages[1]["text"]
    else:
        assert len(fake.messages) == 1
        assert d.message_id == fake.messages[0]["id"]
        keys = {r.headers.get("x-kanban-idempotency-key") or r.json["nonce"] for r in fake.requests}
        assert len(keys) == 1
    assert f"{t.id} done: Nightly import" in fake.messages[0]["text"]
    output = log.read_text()
    assert "notifier: delivering to" in output
    assert not any(s in output for s in SECRETS)
