"""config.yaml reloaded in place: validated as at start-up, a broken file refused, the last good
configuration kept."""

from __future__ import annotations

import pytest

from agentkanban.config import load_settings
from agentkanban.errors import ValidationError
from agentkanban.services.configwatch import ConfigWatch


def test_a_changed_file_takes_effect_and_a_broken_one_is_refused(ctx, home, db_url):
    cfg = home / "config.yaml"
    watch = ConfigWatch(ctx)
    assert watch.check() is False and watch.status()["ok"]
    seen: list[list[str]] = []
    watch.on_reload(seen.append)
    cfg.write_text("profiles:\n  coder: {command: [x], max_concurrency: 3}\n"
                   "dispatch: {max_in_progress: 4}\nnotify: {interval_seconds: 5}\n")
    assert watch.check() is True
    assert ctx.settings.profiles["coder"].max_concurrency == 3
    assert ctx.settings.dispatch.max_in_progress == 4 and ctx.settings.notify.interval_seconds == 5
    assert ctx.settings.database_url == db_url  # what the process started with stays
    assert seen == [["profiles", "dispatch", "notify"]]
    assert watch.check() is False  # unchanged: nothing to do

    cfg.write_text("profiles:\n  coder: {command: [x], max_concurrency: 0}\n")
    with pytest.raises(ValidationError) as at_start:
        load_settings({"KANBAN_HOME": str(home)})
    assert watch.check() is False
    state = watch.status()
    assert state["ok"] is False and state["error"] == str(at_start.value)
    assert ctx.settings.profiles["coder"].max_concurrency == 3  # the last good one stays

    cfg.write_text("profiles: [\n")
    watch.check()
    assert "not valid YAML" in watch.status()["error"]
    cfg.write_text("profiles:\n  coder: {command: [x]}\n")
    assert watch.check() is True and watch.status()["ok"]
    assert ctx.settings.profiles["coder"].max_concurrency == 1


def test_a_forced_check_reloads_and_adjust_applies_each_time(ctx, home):
    from dataclasses import replace

    watch = ConfigWatch(ctx, adjust=lambda s: replace(s, dispatch=replace(s.dispatch, interval_seconds=9)))
    (home / "config.yaml").write_text("dispatch: {interval_seconds: 1}\n")
    assert watch.check(force=True) is True
    assert ctx.settings.dispatch.interval_seconds == 9
