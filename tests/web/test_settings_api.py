"""GET and PATCH /settings: the Settings view's answer (no secret in it) and caps written to
config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings
from agentkanban.services import Actor, runs, tasks

from .test_tasks_api import assert_error

CONFIG = """\
profiles:
  coder:
    command: [claude, -p]  # the worker
    max_concurrency: 2
    env: {ANTHROPIC_API_KEY: sk-secret-value-1}
notify:
  platforms:
    telegram: {token: "123:bot-token-value", home_channel: {chat_id: "-100", name: Ops}}
"""


@pytest.fixture
def settings(home: Path, db_url: str) -> Settings:
    (home / "config.yaml").write_text(CONFIG)
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


def test_get_settings_shape_without_secrets(mounted, ctx):
    t = tasks.create(ctx, "default", title="x", actor=Actor("user"), assignee="coder").task
    runs.claim(ctx, "default", t.id, profile="coder", lock="t:1", ttl=600)
    r = mounted.get("/settings")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"profiles", "dispatch", "notify", "boards", "config"}
    (coder,) = body["profiles"]
    assert coder["command"] == ["claude", "-p"] and coder["env_names"] == ["ANTHROPIC_API_KEY"]
    assert coder["running"] == [{"task_id": t.id, "board": "default"}]
    assert body["dispatch"] == {"max_in_progress": 8, "alive": False, "last_pass_at": None}
    assert body["notify"]["platforms"] == [{"name": "telegram", "usable": True, "home_channels": [
        {"chat_id": "-100", "thread_id": "", "name": "Ops"}]}]
    assert [b["slug"] for b in body["boards"]] == ["default"]
    assert body["config"]["ok"] is True and body["config"]["path"].endswith("config.yaml")
    assert "sk-secret-value-1" not in r.text and "bot-token-value" not in r.text


def test_patch_settings_writes_the_file_and_takes_effect(api, home, ctx):
    r = api.patch("/settings", json={"profiles": {"coder": {"max_concurrency": 4}}, "max_in_progress": 3})
    assert r.status_code == 200, r.text
    assert r.json()["profiles"][0]["max_concurrency"] == 4
    assert r.json()["dispatch"]["max_in_progress"] == 3
    text = (home / "config.yaml").read_text()
    assert "    max_concurrency: 4\n" in text and "# the worker" in text
    assert "dispatch:\n  max_in_progress: 3\n" in text
    assert ctx.settings.profiles["coder"].max_concurrency == 4
    assert api.get("/settings").json()["profiles"][0]["max_concurrency"] == 4


def test_patch_settings_errors_leave_the_file_alone(api, home):
    before = (home / "config.yaml").read_text()
    assert_error(api.patch("/settings", json={"profiles": {"nobody": {"max_concurrency": 2}}}), 404)
    assert_error(api.patch("/settings", json={"profiles": {"coder": {"max_concurrency": 0}}}), 422)
    assert_error(api.patch("/settings", json={"max_in_progress": True}), 422)
    assert_error(api.patch("/settings", json={"surprise": 1}), 422)
    assert_error(api.get("/settings", params={"board": "nope"}), 404)
    (home / "config.yaml").write_text(before + "dispatch: [\n")  # broken by hand meanwhile
    assert_error(api.patch("/settings", json={"max_in_progress": 2}), 400)
    assert (home / "config.yaml").read_text() == before + "dispatch: [\n"
