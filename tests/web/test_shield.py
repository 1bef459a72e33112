"""Cross-origin requests, strict Host parsing, security headers, body bounds, login guessing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from agentkanban.web.limits import HeavyReads

from .conftest import make_board
from .test_tasks_api import assert_error

FOREIGN = "http://127.0.0.1:9999"


@pytest.fixture
def db_url(tmp_path):
    """The gate does not depend on the backend: SQLite only."""
    return f"sqlite:///{tmp_path / 'kanban.db'}"


def test_a_page_from_another_port_cannot_change_the_board(client, ctx):
    make_board(ctx, "other")
    resp = client.post("/api/boards/other/switch", headers={"origin": FOREIGN})
    assert_error(resp, 403, "cross-origin")
    assert client.get("/api/boards").json()["current"] == "default"
    for origin in ("null", "http://evil.example", "https://127.0.0.1", "http://127.0.0.1:8080"):
        assert_error(client.post("/api/tasks", json={"title": "x"}, headers={"origin": origin}), 403)
    assert client.get("/api/tasks").json()["tasks"] == []
    # The server's own origin, and clients that send none (the CLI, curl), are welcome.
    # (the test client's Host is 127.0.0.1, port 80)
    assert client.post("/api/boards/other/switch", headers={"origin": "http://127.0.0.1"}).status_code == 200
    assert client.post("/api/tasks", json={"title": "x"}).status_code == 200
    # Reads need no Origin check (a foreign page cannot read the answer anyway).
    assert client.get("/api/tasks", headers={"origin": FOREIGN}).status_code == 200


def test_a_foreign_page_cannot_open_the_event_stream(live, token):
    url = f"{live.ws_url}/api/events?board=*&token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=FOREIGN, open_timeout=10)
    assert refused.value.response.status_code == 403
    with connect(url, origin=live.url, open_timeout=10) as ws:  # its own page may
        ws.ping()


def test_configured_origins_are_allowed(settings, ctx):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from agentkanban.web.app import create_app

    s2 = replace(settings, serve=replace(settings.serve, allowed_origins=["https://board.example"]))
    app = create_app(s2, ctx=ctx)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.headers["authorization"] = f"Bearer {app.state.token}"
        assert c.post("/api/tasks", json={"title": "x"},
                      headers={"origin": "https://board.example"}).status_code == 200
        assert c.post("/api/tasks", json={"title": "x"},
                      headers={"origin": "https://board.example:444"}).status_code == 403


@pytest.mark.parametrize("host", ["localhost:evil.example", "127.0.0.1:99999", "user@localhost",
                                  "localhost:80:80", "::1"])
def test_host_forms_no_browser_sends_are_refused(client, host):
    assert_error(client.get("/api/tasks", headers={"host": host}), 400, "Host")


def test_duplicate_host_headers_are_refused(live, token):
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n"
                     b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_security_headers_on_pages_and_api(anon, client):
    for resp in (anon.get("/login"), anon.get("/"), client.get("/api/tasks"), anon.get("/api/tasks"),
                 anon.get("/static/style.css")):
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp


def test_no_page_loads_anything_from_another_host(client, anon):
    assert client.get("/api/docs").status_code == 404  # no CDN-hosted Swagger UI
    for page in (anon.get("/"), anon.get("/login")):
        assert "//" not in page.text.replace("<!doctype", "").split("<body>")[0]


def test_request_bodies_are_bounded(client, settings, ctx):
    limit = settings.serve.max_body_bytes
    big = b'{"title": "' + b"x" * (limit + 1) + b'"}'
    resp = client.post("/api/tasks", content=big, headers={"content-type": "application/json"})
    assert_error(resp, 413, "max_body_bytes")

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    resp = client.post("/api/tasks", content=chunks(), headers={"content-type": "application/json"})
    assert_error(resp, 413)
    assert client.get("/api/tasks").json()["tasks"] == []


def test_failed_logins_are_rate_limited(anon, app, token):
    limit = app.state.logins.limit
    for _ in range(limit):
        assert anon.post("/api/auth/login", json={"token": "guess"}).status_code == 401
    locked = anon.post("/api/auth/login", json={"token": token})
    assert_error(locked, 429, "too many failed logins")
    assert int(locked.headers["retry-after"]) >= 1
    assert_error(anon.get("/api/tasks", headers={"authorization": "Bearer guess"}), 429)
    assert anon.get("/healthz").status_code == 200  # no credentials offered: still answered


def test_heavy_reads_wait_their_turn_then_get_503():
    async def scenario() -> list[int]:
        heavy = HeavyReads(limit=1, wait_seconds=0.05)
        statuses: list[int] = []

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {"type": "http", "method": "GET", "path": "/api/board"}
        async with heavy.slot(scope, send) as first:
            assert first
            async with heavy.slot(scope, send) as second:
                assert not second
            async with heavy.slot({**scope, "path": "/healthz"}, send) as light:
                assert light  # health and writes never queue behind board reads
        async with heavy.slot(scope, send) as again:
            assert again
        return statuses

    # A thread of its own: an earlier test (the browser's sync API) may own this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: asyncio.run(scenario())).result(timeout=60) == [503]


def test_healthz_says_degraded_when_the_disk_is_full(settings, ctx):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from agentkanban.web.app import create_app

    ok = TestClient(create_app(settings, ctx=ctx), base_url="http://127.0.0.1").get("/healthz")
    assert ok.status_code == 200 and ok.json()["status"] == "ok" and ok.json()["disk"]["ok"]
    free = ok.json()["disk"]["free_bytes"]
    # A disk with less room left than required is what a full disk looks like to the check.
    full = replace(settings, serve=replace(settings.serve, min_free_disk_bytes=free * 2 + 2**40))
    full_ctx = replace(ctx, settings=full)
    resp = TestClient(create_app(full, ctx=full_ctx), base_url="http://127.0.0.1").get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["status"] == "degraded" and resp.json()["disk"]["ok"] is False
    assert resp.json()["database"] is True
