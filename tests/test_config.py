"""Settings: config.yaml plus environment overlays, checked with the offending key's dotted path."""

from __future__ import annotations

import dataclasses
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agentkanban.config import (
    DashboardSettings,
    DispatchSettings,
    HomeChannel,
    NotifySettings,
    PlatformSettings,
    Profile,
    Secret,
    ServeSettings,
    Settings,
    load_settings,
)
from agentkanban.errors import ValidationError


def _load(home: Path, cfg: object, **env: str) -> Settings:
    (home / "config.yaml").write_text(cfg if isinstance(cfg, str) else yaml.safe_dump(cfg))
    return load_settings({"KANBAN_HOME": str(home), **env})


def test_defaults_without_a_config_file(home: Path) -> None:
    s = load_settings({"KANBAN_HOME": str(home)})
    assert s == Settings(home=home, database_url=f"sqlite:///{home / 'kanban.db'}")
    assert s.dispatch == DispatchSettings() and s.dispatch.failure_limit == 2
    assert s.notify.give_up_after == 86_400 and s.notify.platforms == {}
    assert s.serve == ServeSettings() and s.serve.port == 8765
    assert s.dashboard == DashboardSettings() and s.worker is None and s.token is None
    assert load_settings({"HOME": str(home)}).home == home / ".agentkanban"


def test_a_full_config_round_trips(home: Path) -> None:
    s = _load(home, """
database_url: postgresql+psycopg://u@db/k
sqlite_synchronous: full
token: api-secret
profiles:
  coder:
    command: [claude, -p, "work on {task_id}"]
    env: {MODEL: opus}
    max_concurrency: 2
    max_runtime: 45m
  plain: {command: [echo]}
dispatch: {interval_seconds: 1, failure_limit: 3, max_in_progress: null, kill_grace_seconds: 0}
notify:
  public_url: https://kanban.example.com
  give_up_after: 2h
  platforms:
    telegram: {token: "12:abc", home_channel: {chat_id: -1001234, thread_id: 7}}
    webhook: {url: "https://example.com/hook", secret: sig, home_channel: {chat_id: ops, name: Ops}}
dashboard: {default_tenant: acme, lane_by_profile: false}
serve: {host: 0.0.0.0, port: "9000", allowed_hosts: [kanban.lan], notify: "off"}
""")
    assert s.database_url == "postgresql+psycopg://u@db/k" and s.sqlite_synchronous == "FULL"
    assert s.token == Secret("api-secret")
    assert s.profiles == {
        "coder": Profile(command=["claude", "-p", "work on {task_id}"], env={"MODEL": "opus"},
                         max_concurrency=2, max_runtime=2700),
        "plain": Profile(command=["echo"]),
    }
    assert s.dispatch == DispatchSettings(interval_seconds=1.0, failure_limit=3, max_in_progress=None,
                                          kill_grace_seconds=0.0)
    assert isinstance(s.dispatch.interval_seconds, float)
    assert s.notify == NotifySettings(
        public_url="https://kanban.example.com", give_up_after=7200,
        platforms={"telegram": PlatformSettings(token=Secret("12:abc"),
                                                home_channel=HomeChannel(chat_id="-1001234", thread_id="7")),
                   "webhook": PlatformSettings(url="https://example.com/hook", secret=Secret("sig"),
                                               home_channel=HomeChannel(chat_id="ops", name="Ops"))})
    assert s.dashboard == DashboardSettings(default_tenant="acme", lane_by_profile=False)
    assert s.serve == ServeSettings(host="0.0.0.0", port=9000, allowed_hosts=["kanban.lan"], notify=False)
    assert pickle.loads(pickle.dumps(s)) == s


@pytest.mark.parametrize("cfg,message", [
    ({"dispatch": {"failure_limit": 0}}, "config: dispatch.failure_limit: must be >= 1, got 0"),
    ({"dispatch": {"failure_limit": "two"}}, "config: dispatch.failure_limit: expected an integer, got 'two'"),
    ({"dispatch": {"failure_limit": True}}, "config: dispatch.failure_limit: expected an integer, got True"),
    ({"dispatch": {"failure_limit": 1.5}}, "config: dispatch.failure_limit: expected an integer, got 1.5"),
    ({"dispatch": {"interval_seconds": 0}}, "config: dispatch.interval_seconds: must be > 0, got 0"),
    ({"dispatch": {"log_rotate_bytes": 10}}, "config: dispatch.log_rotate_bytes: must be >= 1024, got 10"),
    ({"dispatch": {"failur_limit": 3}}, "config: dispatch.failur_limit: unknown setting; did you mean failure_limit?"),
    ({"dispatch": [1]}, "config: dispatch: expected a mapping, got a list"),
    ({"serve": {"port": 70000}}, "config: serve.port: must be <= 65535, got 70000"),
    ({"serve": {"dispatch": "maybe"}}, "config: serve.dispatch: expected true or false, got 'maybe'"),
    ({"serve": {"allowed_hosts": "a.lan"}}, "config: serve.allowed_hosts: expected a list, got 'a.lan'"),
    ({"serve": {"allowed_hosts": ["a", 1]}}, "config: serve.allowed_hosts[1]: expected a string, got 1"),
    ({"database_url": 5}, "config: database_url: expected a string, got 5"),
    ({"sqlite_synchronous": "fast"}, "config: sqlite_synchronous: must be OFF, NORMAL, FULL or EXTRA, got 'fast'"),
    ({"wat": 1}, "config: wat: unknown setting; expected one of home, database_url"),
    ({"notify": {"give_up_after": "soon"}}, "config: notify.give_up_after: bad duration 'soon'"),
    ({"notify": {"give_up_after": 0}}, "config: notify.give_up_after: duration must be positive, got 0"),
    ({"notify": {"platforms": {"slack": {"home_channel": {}}}}},
     "config: notify.platforms.slack.home_channel.chat_id: required, but missing"),
    ({"notify": {"platforms": {"slack": {"token": "x", "colour": "red"}}}},
     "config: notify.platforms.slack.colour: unknown setting"),
    ({"profiles": {"coder": {}}}, "config: profiles.coder.command: required, but missing"),
    ({"profiles": {"coder": {"command": []}}}, "config: profiles.coder.command: needs at least 1 item(s), got []"),
    ({"profiles": {"coder": {"command": ["x"], "max_runtime": "5x"}}},
     "config: profiles.coder.max_runtime: bad duration '5x'; use e.g. 90, 30s, 45m, 2h or 1d"),
    ({"profiles": {"coder": {"command": ["x"], "max_concurrency": 0}}},
     "config: profiles.coder.max_concurrency: must be >= 1, got 0"),
    ({"profiles": {"coder": {"command": ["x"], "env": {"N": 1}}}},
     "config: profiles.coder.env.N: expected a string, got 1; quote it in YAML"),
    ({"profiles": {"coder": "claude"}}, "config: profiles.coder: expected a mapping, got 'claude'"),
    ({"profiles": {1: {"command": ["x"]}}}, "config: profiles key 1: expected a string, got 1"),
])
def test_bad_values_name_the_key(home: Path, cfg: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match="^" + re.escape(message)):
        _load(home, cfg)


def test_bad_yaml_and_a_non_mapping(home: Path) -> None:
    with pytest.raises(ValidationError, match="config.yaml: not valid YAML"):
        _load(home, "dispatch: {")
    with pytest.raises(ValidationError, match="config.yaml: expected a mapping at the top level"):
        _load(home, "- a\n- b\n")


def test_secrets_never_show(home: Path) -> None:
    s = _load(home, {"token": "api-s3cret",
                     "notify": {"platforms": {"webhook": {"url": "http://h", "secret": "hmac-s3cret"}}}},
              TELEGRAM_BOT_TOKEN="bot-s3cret", KANBAN_TASK_ID="t_1", KANBAN_RUN_TOKEN="run-s3cret")
    shown = repr(s) + str(s) + repr(s.notify.platforms) + str(s.token) + f"{s.worker}"
    assert "s3cret" not in shown and "**********" in shown
    assert s.token is not None and s.token.get_secret_value() == "api-s3cret"
    assert s.notify.platforms["webhook"].secret == Secret("hmac-s3cret")
    assert s.notify.platforms["telegram"].token == Secret("bot-s3cret")
    assert s.worker is not None and s.worker.token == Secret("run-s3cret")
    assert not Secret("") and str(Secret("")) == ""
    with pytest.raises(ValidationError) as info:  # a mistyped secret is not echoed either
        _load(home, {"token": 98765432})
    assert "98765432" not in str(info.value) and "config: token: expected a string" in str(info.value)


def test_environment_overlays(home: Path) -> None:
    s = _load(home, {"database_url": "sqlite:///elsewhere.db", "board": "ignored", "token": "from-file",
                     "notify": {"platforms": {"telegram": {"api_base": "http://tg", "token": "file"}}}},
              KANBAN_DATABASE_URL="postgresql+psycopg://u@h/k", KANBAN_BOARD="side", KANBAN_TOKEN="env",
              TELEGRAM_BOT_TOKEN="1:tg", TELEGRAM_HOME_CHANNEL="-100", TELEGRAM_HOME_CHANNEL_THREAD_ID="9",
              TELEGRAM_HOME_CHANNEL_NAME="Ops", SLACK_HOME_CHANNEL="C1")
    assert s.database_url == "postgresql+psycopg://u@h/k" and s.board == "side"
    assert s.token == Secret("env")
    assert s.notify.platforms["telegram"] == PlatformSettings(
        token=Secret("1:tg"), api_base="http://tg", home_channel=HomeChannel("-100", "9", "Ops"))
    assert s.notify.platforms["slack"] == PlatformSettings(home_channel=HomeChannel("C1"))
    assert "discord" not in s.notify.platforms and s.worker is None


def test_worker_environment(home: Path) -> None:
    env = {"KANBAN_HOME": str(home), "KANBAN_TASK_ID": "t_1", "KANBAN_RUN_ID": "42",
           "KANBAN_RUN_TOKEN": "tok", "KANBAN_PROFILE": "coder", "KANBAN_BOARD": "side"}
    w = load_settings(env).worker
    assert w is not None
    assert (w.task_id, w.run_id, w.token, w.profile, w.board) == ("t_1", 42, Secret("tok"), "coder", "side")
    bare = load_settings({"KANBAN_HOME": str(home), "KANBAN_TASK_ID": "t_2", "KANBAN_RUN_ID": ""}).worker
    assert bare is not None and (bare.run_id, bare.token, bare.profile) == (None, None, None)
    with pytest.raises(ValidationError, match="^config: worker.run_id: expected an integer, got 'x'"):
        load_settings({**env, "KANBAN_RUN_ID": "x"})


def test_settings_are_frozen_and_replaced(home: Path) -> None:
    s = load_settings({"KANBAN_HOME": str(home)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.board = "x"  # type: ignore[misc]
    moved = dataclasses.replace(s, board="side")
    assert moved.board == "side" and s.board is None and moved.dispatch is s.dispatch


def test_config_does_not_import_pydantic() -> None:
    code = "import sys, agentkanban.config; print(sorted(m for m in sys.modules if 'pydantic' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("cfg,message", [
    ({"dispatch": {"env_passthrough": "AWS_*"}},
     "config: dispatch.env_passthrough: expected a list of environment variable names"),
    ({"dispatch": {"env_passthrough": ["AWS-KEY"]}},
     "config: dispatch.env_passthrough: 'AWS-KEY' is not an environment variable name"),
    ({"dispatch": {"env_passthrough": ["KANBAN_TOKEN"]}},
     "config: dispatch.env_passthrough: KANBAN_TOKEN never reaches a worker"),
    ({"profiles": {"c": {"command": ["x"], "env_passthrough": ["OK", "*_BOT_TOKEN"]}}},
     "config: profiles.c.env_passthrough: '*_BOT_TOKEN' would pass TELEGRAM_BOT_TOKEN, which never "
     "reaches a worker"),
    ({"profiles": {"c": {"command": ["x"], "env_passthrough": ["KANBAN_*"]}}},
     "config: profiles.c.env_passthrough: 'KANBAN_*' would pass KANBAN_TOKEN"),
    ({"profiles": {"c": {"command": ["x"], "env_passthrough": ["KANBAN_RUN_TOKEN"]}}},
     "config: profiles.c.env_passthrough: KANBAN_RUN_TOKEN is set by the dispatcher for each worker"),
    ({"profiles": {"c": {"command": ["x"], "env": {"SLACK_BOT_TOKEN": "x"}}}},
     "config: profiles.c.env.SLACK_BOT_TOKEN: SLACK_BOT_TOKEN never reaches a worker"),
    ({"profiles": {"c": {"command": ["x"], "run_as": "no-such-user-kanban"}}},
     "config: profiles.c.run_as: no user 'no-such-user-kanban' on this machine"),
])
def test_worker_environment_and_run_as_are_checked(home: Path, cfg: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match="^" + re.escape(message)) as err:
        _load(home, cfg)
    assert "config.yaml" in str(err.value)


def test_env_passthrough_and_run_as_load(home: Path) -> None:
    s = _load(home, {"dispatch": {"env_passthrough": ["ANTHROPIC_API_KEY"]},
                     "profiles": {"c": {"command": ["x"], "env_passthrough": ["AWS_*", "GH_TOKEN"],
                                        "run_as": "root"}}})
    assert s.dispatch.env_passthrough == ["ANTHROPIC_API_KEY"]
    assert s.profiles["c"].env_passthrough == ["AWS_*", "GH_TOKEN"] and s.profiles["c"].run_as == "root"
