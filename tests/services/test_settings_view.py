"""The Settings view: what is configured and running, with no secret, and caps written back to
config.yaml with everything else in the file kept byte for byte."""

from __future__ import annotations

import json
import os
import stat

import pytest

from agentkanban.errors import NotFound, ValidationError
from agentkanban.services import Actor, board_defaults, health, runs, settings_view, tasks
from agentkanban.services.configwatch import ConfigWatch

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

CONFIG = """\
# The team's workers. Keep this file in git.
profiles:
  coder:
    # the expensive one
    command: [claude, -p, "{task_id}"]   # prompt comes from the task
    max_concurrency: 2  # two at a time
    env: {API_KEY: sk-very-secret-value}
  planner: {command: [planner], max_concurrency: 1, requires_approval: true}

dispatch:
  interval_seconds: 2     # seconds between passes
  max_in_progress: 8      # across every board

notify:
  platforms:
    telegram:
      token: "123:bot-secret-token"
      home_channel: {chat_id: -1001, name: Ops}
    slack:
      home_channel: {chat_id: C1}
"""


@pytest.fixture
def configured(ctx, home):
    path = home / "config.yaml"
    path.write_text(CONFIG)
    os.chmod(path, 0o640)
    ConfigWatch(ctx).check(force=True)
    return path


def test_overview_shows_profiles_running_work_loops_and_boards_without_secrets(ctx, configured):
    t = tasks.create(ctx, "default", title="port the parser", actor=Actor("user"), assignee="coder").task
    assert runs.claim(ctx, "default", t.id, profile="coder", lock="t:1", ttl=600) is not None
    board_defaults.set_defaults(ctx, "default", workdir="/srv/repo", kind="dir")
    health.record_dispatcher_tick(ctx, {})

    view = settings_view.overview(ctx)
    coder, planner = view["profiles"]
    assert coder["name"] == "coder" and coder["command"] == ["claude", "-p", "{task_id}"]
    assert coder["max_concurrency"] == 2 and coder["env_names"] == ["API_KEY"]
    assert coder["running"] == [{"task_id": t.id, "board": "default"}]
    assert planner["running"] == [] and planner["requires_approval"] is True
    assert view["dispatch"]["max_in_progress"] == 8
    assert view["dispatch"]["alive"] is True and view["dispatch"]["last_pass_at"] == int(ctx.now())
    assert view["notify"]["alive"] is False and view["notify"]["last_pass_at"] is None
    assert view["notify"]["platforms"] == [
        {"name": "slack", "usable": False, "home_channels": []},  # no token: not offered
        {"name": "telegram", "usable": True,
         "home_channels": [{"chat_id": "-1001", "thread_id": "", "name": "Ops"}]}]
    board = view["boards"][0]
    assert board["slug"] == "default" and board["default_workdir"] == "/srv/repo"
    assert board["default_workspace_kind"] == "dir" and board["counts"] == {"running": 1}
    assert view["config"]["path"] == str(configured) and view["config"]["exists"]
    text = json.dumps(view)
    assert "sk-very-secret-value" not in text and "bot-secret-token" not in text


def test_a_dispatcher_silent_too_long_is_not_alive(ctx, clock, configured):
    health.record_dispatcher_tick(ctx, {})
    clock.advance(health.STALE_AFTER_SECONDS + 1)
    state = settings_view.overview(ctx)["dispatch"]
    assert state["alive"] is False and state["last_pass_at"] is not None


def test_a_cap_is_written_back_with_every_comment_and_other_byte_kept(ctx, configured):
    view = settings_view.update_caps(ctx, profiles={"coder": 5}, max_in_progress=12)
    after = configured.read_text()
    expected = (CONFIG.replace("max_concurrency: 2  # two", "max_concurrency: 5  # two")
                .replace("max_in_progress: 8 ", "max_in_progress: 12 "))
    assert after == expected
    assert stat.S_IMODE(configured.stat().st_mode) == 0o640  # the mode is kept
    assert ctx.settings.profiles["coder"].max_concurrency == 5  # in force at once
    assert ctx.settings.dispatch.max_in_progress == 12
    assert {p["name"]: p["max_concurrency"] for p in view["profiles"]} == {"coder": 5, "planner": 1}

    settings_view.update_caps(ctx, profiles={"planner": 3})  # a flow mapping, changed in place
    assert configured.read_text() == expected.replace("max_concurrency: 1,", "max_concurrency: 3,")
    assert ctx.settings.profiles["planner"].max_concurrency == 3


def test_a_key_not_yet_written_is_added_and_comments_stay(ctx, home):
    path = home / "config.yaml"
    path.write_text("# workers\nprofiles:\n  coder:\n    command: [x]  # the worker\n")
    ConfigWatch(ctx).check(force=True)
    settings_view.update_caps(ctx, profiles={"CODER": 4}, max_in_progress=3)
    text = path.read_text()
    assert "# workers" in text and "# the worker" in text
    assert ctx.settings.profiles["coder"].max_concurrency == 4
    assert ctx.settings.dispatch.max_in_progress == 3


def test_a_missing_file_is_created_private(ctx, home):
    path = home / "config.yaml"
    assert not path.exists()
    settings_view.update_caps(ctx, max_in_progress=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ctx.settings.dispatch.max_in_progress == 2
    assert [p.name for p in home.iterdir() if p.name.startswith(".config.")] == []  # no temp left


def test_a_refused_value_or_unknown_profile_leaves_the_file_alone(ctx, configured):
    with pytest.raises(ValidationError):
        settings_view.update_caps(ctx, profiles={"coder": 0})
    with pytest.raises(ValidationError):
        settings_view.update_caps(ctx, max_in_progress=True)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        settings_view.update_caps(ctx, profiles={"nobody": 2})
    assert configured.read_text() == CONFIG
    assert ctx.settings.profiles["coder"].max_concurrency == 2


def test_the_start_up_validator_refuses_what_the_edit_would_break(ctx, home):
    # The file already holds something the loader refuses once reloaded (here: a second problem
    # appears only with the new text): nothing is written when the result does not load.
    path = home / "config.yaml"
    path.write_text("profiles:\n  coder: {command: [x]}\n")
    ConfigWatch(ctx).check(force=True)
    path.write_text("profiles:\n  coder: {command: [x]}\nbogus_section: 1\n")
    before = path.read_text()
    with pytest.raises(ValidationError):
        settings_view.update_caps(ctx, profiles={"coder": 2})
    assert path.read_text() == before


@pytest.mark.parametrize("written", ["null", "~", ""])
def test_an_unlimited_or_empty_value_is_replaced(ctx, home, written):
    path = home / "config.yaml"
    path.write_text(f"dispatch:\n  max_in_progress: {written}\n  interval_seconds: 3  # note\n")
    ConfigWatch(ctx).check(force=True)
    settings_view.update_caps(ctx, max_in_progress=6)
    assert ctx.settings.dispatch.max_in_progress == 6 and ctx.settings.dispatch.interval_seconds == 3
    assert "# note" in path.read_text()


def test_a_linked_file_stays_linked(ctx, home, tmp_path):
    target = tmp_path / "dotfiles" / "kanban.yaml"
    target.parent.mkdir()
    target.write_text("dispatch: {max_in_progress: 4}  # shared\n")
    (home / "config.yaml").symlink_to(target)
    ConfigWatch(ctx).check(force=True)
    settings_view.update_caps(ctx, max_in_progress=9)
    assert (home / "config.yaml").is_symlink()
    assert target.read_text() == "dispatch: {max_in_progress: 9}  # shared\n"


def test_the_servers_watch_puts_the_change_in_force_and_reports_the_file(ctx, clock, configured):
    watch = ConfigWatch(ctx)
    clock.advance(5)
    view = settings_view.update_caps(ctx, profiles={"coder": 7}, watch=watch)
    assert ctx.settings.profiles["coder"].max_concurrency == 7
    assert view["config"]["ok"] is True and view["config"]["loaded_at"] == int(clock())
    assert watch.check() is False  # already seen: nothing left to reload
