"""The token guards every /api route and the WebSocket; Host names are checked; /healthz is open."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agentkanban.config import load_settings
from agentkanban.services import health
from agentkanban.web.app import create_app
from agentkanban.web.auth import COOKIE_NAME, load_token

from .conftest import BASE
from .test_tasks_api import assert_error


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Authentication does not depend on the backend: SQLite only."""
    return f"sqlite:///{tmp_path / 'kanban.db'}"


def api_routes(app):
    """(method, path) of every documented /api route, at both mount points."""
    for path, ops in app.openapi()["paths"].items():
        if not path.startswith("/api/") or path.startswith("/api/auth/"):
            continue
        for method in ops:
            yield method.upper(), path
            yield method.upper(), "/api/plugins/kanban" + path.removeprefix("/api")


def _fill(path: str) -> str:
    return path.replace("{task_id}", "t_ffffffff").replace("{platform}", "telegram").replace(
        "{slug}", "default").replace("{schedule_id}", "s_ffffffff").replace(
        "{attachment_id}", "1").replace("{name}", "coder")


def test_every_api_route_needs_the_token(app, anon, token):
    routes = list(api_routes(app))
    assert len(routes) == 2 * 82
    app.state.logins.limit = 10**6  # hundreds of wrong tokens on purpose: no lock-out here
    for method, path in routes:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {token}"},
                        {"x-hermes-session-token": "wrong"}, {"x-hermes-session-token": ""}):
            resp = anon.request(method, _fill(path), headers=headers)
            assert_error(resp, 401, "token")
    assert anon.get("/api/openapi.json").status_code == 401


def test_both_mounts_serve_every_route(app, client):
    for method, path in api_routes(app):
        resp = client.request(method, _fill(path), params={"board": "nope"})
        if "/runners" in path:  # not board-scoped; the runner's own routes want a runner token
            assert resp.status_code != 405 and (resp.status_code != 404 or "runner" in resp.json()["detail"])
            assert resp.status_code == 401 or not path.rsplit("/runners/", 1)[-1].startswith(
                ("register", "claim", "runs/")), (method, path, resp.status_code)
            continue
        # Every route answers (no 404/405 from the router): the unknown board is what it refuses.
        assert resp.status_code in (404, 422), (method, path, resp.status_code)
        if resp.status_code == 404:
            assert "nope" in resp.json()["detail"], (method, path)
    for prefix in ("/api", "/api/plugins/kanban"):
        with client.websocket_connect(f"ws://127.0.0.1{prefix}/events?since=0") as ws:
            ws.close()


def test_bearer_and_cookie_are_accepted(anon, token):
    assert anon.get("/api/stats", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert anon.get("/api/stats", headers={"authorization": f"bearer {token}"}).status_code == 200
    anon.cookies.set(COOKIE_NAME, token)
    assert anon.get("/api/plugins/kanban/stats").status_code == 200
    anon.cookies.set(COOKIE_NAME, "nope")
    assert anon.get("/api/stats").status_code == 401


def test_query_token_is_not_accepted_on_http_routes(anon, token):
    assert anon.get("/api/stats", params={"token": token}).status_code == 401


def test_login_sets_an_httponly_strict_cookie_and_logout_clears_it(anon, token):
    assert_error(anon.post("/api/auth/login", json={"token": "wrong"}), 401)
    resp = anon.post("/api/auth/login", json={"token": token})
    assert resp.json() == {"ok": True}
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie
    assert re.search("samesite=strict", cookie, re.I)
    assert anon.get("/api/stats").status_code == 200
    out = anon.post("/api/auth/logout")
    assert out.status_code == 200 and COOKIE_NAME not in anon.cookies
    assert anon.get("/api/stats").status_code == 401


def test_token_link_sets_the_cookie_and_redirects(anon, token):
    resp = anon.get(f"/?token={token}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    assert "HttpOnly" in resp.headers["set-cookie"]
    assert anon.get("/api/stats").status_code == 200
    bad = anon.get("/?token=wrong", follow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"].startswith("/login")
    assert "set-cookie" not in bad.headers


def test_pages_are_served(anon):
    assert "<html" in anon.get("/").text.lower()
    assert "token" in anon.get("/login").text.lower()


def test_forged_host_is_refused(app, token):
    auth = {"authorization": f"Bearer {token}"}
    with TestClient(app, base_url="http://evil.example:8765") as c:
        assert_error(c.get("/api/stats", headers=auth), 400, "Host")
        assert c.get("/healthz").status_code == 400
        assert c.get("/").status_code == 400
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        with TestClient(app, base_url=f"http://{host}") as c:
            assert c.get("/api/stats", headers=auth).status_code == 200, host


def test_allowed_hosts_are_accepted(home, db_url):
    (home / "config.yaml").write_text("serve:\n  allowed_hosts: [kanban.team.lan]\n")
    settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url, "KANBAN_TOKEN": "tkn"})
    app = create_app(settings)
    for host, code in (("kanban.team.lan:80", 200), ("other.lan", 400)):
        with TestClient(app, base_url=f"http://{host}") as c:
            assert c.get("/api/stats", headers={"authorization": "Bearer tkn"}).status_code == code


def test_healthz_is_open(anon, ctx):
    health_now = anon.get("/healthz").json()
    assert health_now.pop("disk")["ok"] is True
    assert health_now == {"ok": True, "status": "ok", "database": True, "dispatcher": None,
                          "notifier": None, "config": None}  # config: only kanban serve watches it
    health.record_dispatcher_tick(ctx, {"spawned": 0})
    body = anon.get("/healthz").json()["dispatcher"]
    assert body["alive"] is True and body["age_seconds"] == 0 and body["last_tick"] > 0


def test_websocket_without_or_with_a_wrong_token_closes_1008(client, token):
    for query in ("", "?token=wrong"):
        with client.websocket_connect(f"ws://127.0.0.1/api/events{query}", headers={"authorization": ""}) as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_json()
            assert info.value.code == 1008


def test_token_sources(home, db_url):
    env = {"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}
    generated = load_token(load_settings(env))
    assert generated.origin == "generated" and len(generated.token) >= 32
    path = home / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_token(load_settings(env))
    assert (again.token, again.origin) == (generated.token, "file")
    assert load_token(load_settings({**env, "KANBAN_TOKEN": "mine"})).token == "mine"


def test_errors_never_echo_the_token(anon, token):
    for resp in (anon.get("/api/stats", headers={"authorization": "Bearer " + token + "x"}),
                 anon.post("/api/auth/login", json={"token": token + "x"})):
        assert token not in resp.text


def _serve(home: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "KANBAN_HOME": str(home), **(env_extra or {})}
    env.pop("KANBAN_TOKEN", None) if "KANBAN_TOKEN" not in (env_extra or {}) else None
    return subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--no-dispatch", "--no-notify",
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_refuses_a_public_address_without_a_chosen_token(tmp_path):
    proc = _serve(tmp_path / "h", "--host", "0.0.0.0", "--port", "0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KANBAN_TOKEN" in err and "refusing" in err


def test_serve_on_port_0_prints_the_port_and_a_login_link(tmp_path):
    proc = _serve(tmp_path / "h", "--port", "0", env_extra={"KANBAN_TOKEN": "s3cret-token"})
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        link = None
        while time.monotonic() < deadline and link is None:
            line = proc.stdout.readline()
            m = re.search(r"(http://127\.0\.0\.1:(\d+))/\?token=(\S+)", line)
            if m:
                link = m
        assert link is not None and link.group(3) == "s3cret-token" and link.group(2) != "0"
        base = link.group(1)
        assert httpx.get(base + "/healthz").json()["database"] is True
        assert httpx.get(base + "/api/stats").status_code == 401
        assert httpx.get(base + "/api/stats", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled


def test_anon_base_is_loopback():
    assert BASE.startswith("http://127.0.0.1")


def test_serve_runs_the_dispatcher_and_notifier_and_stops_them(tmp_path):
    env = {"KANBAN_TOKEN": "tok"}
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--port", "0"],
                            env={**os.environ, "KANBAN_HOME": str(tmp_path / "h"), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = None
        while base is None:
            m = re.search(r"listening on (\S+)", proc.stdout.readline())
            base = f"http://{m.group(1)}" if m else None
        deadline = time.monotonic() + 30
        dispatcher = None
        while time.monotonic() < deadline and not (dispatcher and dispatcher["alive"]):
            dispatcher = httpx.get(base + "/healthz").json()["dispatcher"]
            time.sleep(0.1)
        assert dispatcher and dispatcher["alive"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGTERM)


def test_responses_say_how_long_the_server_took(client):
    resp = client.get("/api/stats")
    assert re.fullmatch(r"app;dur=\d+\.\d\d", resp.headers["server-timing"])
