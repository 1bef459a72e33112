"""Fake platform servers and a context configured to send to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkanban.config import load_settings
from agentkanban.notify.notifier import Notifier
from agentkanban.services import Ctx, open_ctx
from agentkanban.store import engine as store_engine

from .fakes import FakePlatform

TELEGRAM_TOKEN = "123456:TEST-telegram-secret-AAAAAAAAAAAA"
DISCORD_TOKEN = "MTIz.discord-secret-BBBBBBBBBBBB"
SLACK_TOKEN = "xoxb-slack-secret-CCCCCCCCCCCC"
WEBHOOK_SECRET = "whsec-webhook-secret-DDDDDDDDDD"
SECRETS = (TELEGRAM_TOKEN, DISCORD_TOKEN, SLACK_TOKEN, WEBHOOK_SECRET)


def _fake(kind: str, token: str = "", secret: str = "") -> Iterator[FakePlatform]:
    f = FakePlatform(kind, token=token, secret=secret).start()
    yield f
    f.close()


@pytest.fixture
def telegram() -> Iterator[FakePlatform]:
    yield from _fake("telegram", TELEGRAM_TOKEN)


@pytest.fixture
def discord() -> Iterator[FakePlatform]:
    yield from _fake("discord", DISCORD_TOKEN)


@pytest.fixture
def slack() -> Iterator[FakePlatform]:
    yield from _fake("slack", SLACK_TOKEN)


@pytest.fixture
def webhook() -> Iterator[FakePlatform]:
    yield from _fake("webhook", secret=WEBHOOK_SECRET)


def platform_config(fake: FakePlatform, home: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config.yaml entry for a fake server."""
    if fake.kind == "webhook":
        cfg: dict[str, Any] = {"url": f"{fake.base}/hook", "secret": WEBHOOK_SECRET}
    else:
        cfg = {"token": fake.token, "api_base": fake.base}
    if home is not None:
        cfg["home_channel"] = home
    return cfg


def write_config(home: Path, platforms: dict[str, Any], **notify: Any) -> None:
    (home / "config.yaml").write_text(yaml.safe_dump({"notify": {"platforms": platforms, **notify}}))


Configure = Callable[..., Ctx]


@pytest.fixture
def configure(home: Path, db_url: str, clock: Any) -> Iterator[Configure]:
    """Write config.yaml with these platforms and open a context on the test database."""

    def make(platforms: dict[str, Any], **notify: Any) -> Ctx:
        write_config(home, platforms, **notify)
        settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
        return open_ctx(settings, clock=clock)

    yield make
    store_engine.close_all()


@pytest.fixture
def notifiers() -> Iterator[Callable[[Ctx], Notifier]]:
    """Make notifiers that are closed after the test."""
    made: list[Notifier] = []

    def make(ctx: Ctx) -> Notifier:
        n = Notifier(ctx)
        made.append(n)
        return n

    yield make
    for n in made:
        n.stop()
        n.close()
