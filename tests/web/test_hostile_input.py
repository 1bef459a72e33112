"""Invalid text never gets in, and text already stored never breaks a reader."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import text
from websockets.sync.client import connect

from agentkanban.services import events as event_svc

from .conftest import make_task
from .test_tasks_api import assert_error

LONE = "\ud800"


def raw_json(payload: dict) -> bytes:
    """The body a client sends: ``json.dumps`` escapes a lone surrogate as ``\\ud800``."""
    return json.dumps(payload).encode()


def post_raw(api, path: str, payload: dict) -> httpx.Response:
    return api.post(path, content=raw_json(payload), headers={"content-type": "application/json"})


def test_a_lone_surrogate_is_refused_everywhere_and_nothing_is_stored(api, ctx):
    for payload in ({"title": "x", "skills": [LONE]}, {"title": f"x{LONE}"},
                    {"title": "x", "body": "caf\udce9"}, {"title": "x", "tenant": LONE}):
        assert_error(post_raw(api, "/tasks", payload), 422, "invalid text")
    assert api.get("/tasks").json()["tasks"] == []
    assert api.get("/board").status_code == 200
    tid = make_task(ctx, "fine")
    assert_error(post_raw(api, f"/tasks/{tid}/comments", {"body": f"x{LONE}"}), 422, "invalid text")
    assert_error(api.patch(f"/tasks/{tid}", content=raw_json({"title": LONE}),
                           headers={"content-type": "application/json"}), 422)
    # Undecodable bytes in a query string: refused, not a 500.
    for raw in ("caf%E9", "%ED%A0%80"):
        assert_error(api.client.get(f"/api/tasks?tenant={raw}"), 422, "invalid text")


def test_login_with_invalid_text_is_422_not_500(anon):
    resp = anon.post("/api/auth/login", content=raw_json({"token": LONE}),
                     headers={"content-type": "application/json"})
    assert_error(resp, 422, "invalid text")
    assert "set-cookie" not in resp.headers


def test_readers_survive_invalid_text_stored_before_it_was_refused(api, ctx, live, token):
    tid = make_task(ctx, "old row", skills=["ok"])
    since = event_svc.latest_id(ctx)
    make_task(ctx, "event carrier")
    with ctx.store.engine.begin() as conn:  # what an older version let in
        conn.execute(text("UPDATE tasks SET skills = :s WHERE id = :id"),
                     {"s": '["\\ud800"]', "id": tid})
        conn.execute(text("UPDATE events SET payload = :p WHERE id > :since"),
                     {"p": '{"note": "caf\\udce9"}', "since": since})
    board = api.get("/board")
    assert board.status_code == 200
    cards = [c for col in board.json()["columns"] for c in col["tasks"]]
    assert next(c for c in cards if c["id"] == tid)["skills"] == ["\ufffd"]
    assert api.get("/tasks").status_code == 200
    assert api.get(f"/tasks/{tid}").json()["task"]["skills"] == ["\ufffd"]
    with connect(f"{live.ws_url}/api/events?since={since}&token={token}", open_timeout=10) as ws:
        batch = json.loads(ws.recv(timeout=10))
    assert batch["events"][0]["payload"] == {"note": "caf\ufffd"}


def test_task_detail_says_when_a_failed_task_retries(api, ctx):
    from agentkanban.services import runs

    tid = make_task(ctx, "flaky", assignee="coder")
    c = runs.claim(ctx, "default", tid, profile="coder", lock="test:1", ttl=900)
    assert c is not None
    assert api.get(f"/tasks/{tid}").json()["retry"] is None
    runs.end_attempt(ctx, "default", tid, c.run_id, outcome="timed_out", error="too slow",
                     count_failure=True, failure_limit=5)
    retry = api.get(f"/tasks/{tid}").json()["retry"]
    assert retry["failure_class"] == "timed_out" and retry["next_attempt_at"] > ctx.now()


def test_a_nul_anywhere_in_a_request_is_refused_and_nothing_changes(api, ctx):
    """Bodies, query strings and paths alike, whether the field is stored (a schedule's skills)
    or only read (a filter, a list of ids): 422, not a partial success or a silent no-match."""
    tid = make_task(ctx, "keep me", assignee="coder")
    nul = "a\x00b"
    bodies = [("/schedules", {"title": "x", "cron": "0 * * * *", "skills": [nul]}),
              ("/tasks/bulk", {"ids": [tid, nul], "archive": True}),
              ("/tasks/bulk", {"ids": [tid], "status": "done", "summary": "s", "metadata": {"k": nul}}),
              ("/tasks", {"title": "x", "skills": ["ok", nul]}),
              ("/links", {"parent_id": nul, "child_id": tid}),
              (f"/tasks/{tid}/comments", {"body": nul})]
    for path, payload in bodies:
        resp = post_raw(api, path, payload)
        assert resp.status_code == 422 and "NUL" in resp.json()["detail"], (path, resp.text)
    for query in ("q=a%00b", "assignee=%00", "tenant=x%00"):
        assert_error(api.client.get(f"/api/tasks?{query}"), 422, "NUL")
    assert_error(api.client.get("/api/usage?profile=a%00"), 422, "NUL")
    assert_error(api.client.delete(f"/api/links?parent_id=a%00&child_id={tid}"), 422, "NUL")
    assert_error(api.client.get("/api/tasks/t_%00"), 422, "NUL")
    assert api.get("/schedules").json()["schedules"] == []
    listed = api.get("/tasks").json()["tasks"]
    assert [(t["id"], t["status"]) for t in listed] == [(tid, "ready")]
    assert api.get(f"/tasks/{tid}").json()["comments"] == []
    # The escaped text "\u0000" (a backslash and five characters) is ordinary text.
    ok = post_raw(api, f"/tasks/{tid}/comments", {"body": "write \\u0000 to mean NUL"})
    assert ok.status_code == 200, ok.text
