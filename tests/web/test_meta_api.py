"""GET /config, /home-channels, /stats, /assignees; home subscriptions; POST /dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings
from agentkanban.services import subs, transitions

from .conftest import make_board, make_task
from .test_tasks_api import assert_error


@pytest.fixture
def settings(home: Path, db_url: str) -> Settings:
    (home / "config.yaml").write_text(
        "dashboard:\n  default_tenant: acme\n  render_markdown: false\n"
        "profiles:\n  coder:\n    command: [echo, hi]\n")
    return load_settings({
        "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_HOME_CHANNEL": "-100", "TELEGRAM_HOME_CHANNEL_NAME": "Ops",
        "DISCORD_BOT_TOKEN": "d", "DISCORD_HOME_CHANNEL": "555", "DISCORD_HOME_CHANNEL_THREAD_ID": "7",
        "SLACK_BOT_TOKEN": "no-home",
    })


def test_config(api):
    assert api.get("/config").json() == {"default_tenant": "acme", "lane_by_profile": True,
                                         "include_archived_by_default": False, "render_markdown": False}
    assert_error(api.get("/config", params={"board": "nope"}), 404)


def test_home_channels_lists_only_platforms_with_a_home(api, ctx):
    body = api.get("/home-channels").json()
    assert body == {"home_channels": [
        {"platform": "discord", "chat_id": "555", "thread_id": "7", "name": "Home", "subscribed": False},
        {"platform": "telegram", "chat_id": "-100", "thread_id": "", "name": "Ops", "subscribed": False},
    ]}


def test_home_subscribe_and_unsubscribe(api, ctx):
    tid = make_task(ctx, "t")
    resp = api.post(f"/tasks/{tid}/home-subscribe/telegram")
    assert resp.json() == {"ok": True, "task_id": tid, "home_channel": {
        "platform": "telegram", "chat_id": "-100", "thread_id": "", "name": "Ops"}}
    assert api.post(f"/tasks/{tid}/home-subscribe/telegram").status_code == 200  # idempotent
    assert len(subs.list_subs(ctx, "default", tid)) == 1
    state = {h["platform"]: h["subscribed"]
             for h in api.get("/home-channels", params={"task_id": tid}).json()["home_channels"]}
    assert state == {"discord": False, "telegram": True}
    assert api.delete(f"/tasks/{tid}/home-subscribe/telegram").json()["ok"] is True
    assert subs.list_subs(ctx, "default", tid) == []
    # Unknown task: nothing subscribed, as the reference answers.
    assert not any(h["subscribed"] for h in
                   api.get("/home-channels", params={"task_id": "t_ffffffff"}).json()["home_channels"])


def test_home_subscribe_errors_and_scope(api, ctx):
    make_board(ctx, "proj")
    tid = make_task(ctx, "t", board="proj")
    assert_error(api.post(f"/tasks/{tid}/home-subscribe/slack"), 404, "slack")
    assert_error(api.post(f"/tasks/{tid}/home-subscribe/matrix"), 404)
    assert_error(api.post("/tasks/t_ffffffff/home-subscribe/telegram", params={"board": "proj"}), 404)
    assert_error(api.post(f"/tasks/{tid}/home-subscribe/telegram"), 404)  # other board
    assert api.post(f"/tasks/{tid}/home-subscribe/telegram", params={"board": "proj"}).status_code == 200
    assert_error(api.delete(f"/tasks/{tid}/home-subscribe/slack", params={"board": "proj"}), 404)
    assert_error(api.delete(f"/tasks/{tid}/home-subscribe/telegram", params={"board": "B A D"}), 400)


def test_stats(api, ctx, user, clock):
    make_board(ctx, "proj")
    make_task(ctx, "a", assignee="bob")
    b = make_task(ctx, "b", assignee="bob")
    transitions.block(ctx, "default", b, actor=user)
    make_task(ctx, "elsewhere", board="proj")
    clock.advance(30)
    body = api.get("/stats").json()
    assert body["by_status"]["ready"] == 1 and body["by_status"]["blocked"] == 1
    assert body["by_assignee"] == {"bob": {"ready": 1, "blocked": 1}}
    assert body["oldest_ready_age_seconds"] == 30 and isinstance(body["now"], int)
    assert api.get("/stats", params={"board": "proj"}).json()["by_status"]["ready"] == 1
    assert_error(api.get("/stats", params={"board": "nope"}), 404)


def test_assignees(api, ctx):
    make_board(ctx, "proj")
    make_task(ctx, "a", assignee="bob")
    make_task(ctx, "b", assignee="zed", board="proj")
    assert api.get("/assignees").json() == {"assignees": [
        {"name": "bob", "on_disk": False, "counts": {"ready": 1}},
        {"name": "coder", "on_disk": True, "counts": {}},
    ]}
    names = [a["name"] for a in api.get("/assignees", params={"board": "proj"}).json()["assignees"]]
    assert names == ["coder", "zed"]
    assert_error(api.get("/assignees", params={"board": "?"}), 400)


def test_dispatch(api, ctx):
    make_board(ctx, "proj")
    waiting = make_task(ctx, "nobody does this")
    unknown = make_task(ctx, "no such profile", assignee="ghost")
    body = api.post("/dispatch", params={"dry_run": "true", "max": 2, "board": "default"}).json()
    assert body["dry_run"] is True and body["boards"] == ["default"]
    assert waiting in body["skipped_unassigned"]
    assert {"id": unknown, "assignee": "ghost"} in body["skipped_nonspawnable"]
    assert body["spawned"] == []
    assert api.post("/dispatch", params={"dry_run": "true", "board": "proj"}).json()["boards"] == ["proj"]
    assert_error(api.post("/dispatch", params={"board": "nope"}), 404)
    assert_error(api.post("/dispatch", params={"max": -1}), 422)


def test_dispatch_asks_the_servers_own_dispatcher(settings, ctx, app):
    """POST /dispatch runs a pass of the dispatcher the server keeps (the one its loop runs), never
    a throwaway: a pass already running in it is reported, not run beside it."""
    from fastapi.testclient import TestClient

    from agentkanban.dispatch import Dispatcher
    from agentkanban.web.app import create_app

    running = Dispatcher(ctx)
    running.lock_wait_seconds = 0.01
    served = create_app(settings, ctx=ctx, dispatcher=running)
    with TestClient(served, base_url="http://127.0.0.1") as c:
        c.headers["authorization"] = f"Bearer {served.state.token}"
        with running._tick_lock:  # the loop is in the middle of a pass
            assert c.post("/api/dispatch").json()["skipped_locked"] is True
        assert c.post("/api/dispatch").json()["skipped_locked"] is False
    assert served.state.dispatcher is running
    # Without a loop (--no-dispatch) the server keeps one dispatcher for these requests.
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.headers["authorization"] = f"Bearer {app.state.token}"
        c.post("/api/dispatch", params={"dry_run": "true"})
        kept = app.state.dispatcher
        c.post("/api/dispatch", params={"dry_run": "true"})
        assert kept is not None and app.state.dispatcher is kept
