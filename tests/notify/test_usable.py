"""One rule for "is a platform usable": the notifier, the home channels and the CLI agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agentkanban.config import load_settings
from agentkanban.notify.notifier import build_adapters
from agentkanban.services import open_ctx, subs
from agentkanban.store import engine as store_engine

HOME = {"home_channel": {"chat_id": "c1", "name": "Ops"}}
CASES = {
    "telegram with a token": ("telegram", {"token": "1:x", **HOME}, True),
    "telegram without a token": ("telegram", {**HOME}, False),
    "webhook with a url": ("hooks", {"url": "http://127.0.0.1:9/h", **HOME}, True),
    # The dashboard used to offer this home channel; the notifier never sent to it.
    "webhook with only a token": ("hooks", {"token": "secret", **HOME}, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_surface_agrees(case: str, home: Path, db_url: str) -> None:
    name, platform, usable = CASES[case]
    (home / "config.yaml").write_text(yaml.safe_dump({"notify": {"platforms": {name: platform}}}))
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}))
    try:
        assert (name in build_adapters(ctx)) is usable
        assert (name in subs.usable_platforms(ctx)) is usable
        assert ([h["platform"] for h in subs.home_channels(ctx)] == [name]) is usable
    finally:
        store_engine.close_all()
