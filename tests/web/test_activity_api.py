"""GET /activity: the board's feed over HTTP, refusals as 400/422."""

from __future__ import annotations


def test_activity_route(client) -> None:
    tid = client.post("/api/tasks", json={"title": "feed me", "assignee": "coder"}).json()["task"]["id"]
    client.post(f"/api/tasks/{tid}/comments", json={"body": "hello"})
    r = client.get("/api/activity", params={"profile": "coder"})
    assert r.status_code == 200
    assert [(e["task_id"], e["kind"], e["title"]) for e in r.json()["events"]] == [
        (tid, "commented", "feed me"), (tid, "created", "feed me")]
    assert client.get("/api/activity", params={"kind": "exploded"}).status_code == 422
    assert client.get("/api/activity", params={"limit": 0}).status_code == 422
    assert client.get("/api/activity", params={"task_id": "ffff"}).status_code == 404
