"""GET/POST /boards, PATCH/DELETE /boards/{slug}, POST /boards/{slug}/switch."""

from __future__ import annotations

from agentkanban.services import boards

from .conftest import make_board, make_task
from .test_tasks_api import assert_error


def test_list_boards(api, ctx):
    make_board(ctx, "proj")
    make_task(ctx, "a", board="proj")
    body = api.get("/boards").json()
    assert body["current"] == "default"
    rows = {b["slug"]: b for b in body["boards"]}
    assert set(rows) == {"default", "proj"}
    assert rows["proj"]["counts"] == {"ready": 1} and rows["proj"]["total"] == 1
    assert rows["default"]["is_current"] and not rows["proj"]["is_current"]
    assert_error(api.get("/boards", params={"board": "nope"}), 404)


def test_create_board(api, ctx):
    body = api.post("/boards", json={"slug": "Proj", "name": "Project", "icon": "P"}).json()
    assert body["board"]["slug"] == "proj" and body["board"]["name"] == "Project"
    assert body["current"] == "default"
    again = api.post("/boards", json={"slug": "proj", "switch": True}).json()  # idempotent
    assert again["board"]["name"] == "Project" and again["current"] == "proj"
    assert boards.current(ctx) == "proj"
    # Requests without ?board= now act on the current board.
    tid = api.post("/tasks", json={"title": "t"}).json()["task"]["id"]
    assert api.get(f"/tasks/{tid}").json()["task"]["board"] == "proj"
    assert_error(api.post("/boards", json={"slug": "../etc"}), 400, "invalid board slug")
    assert_error(api.post("/boards", json={}), 422)


def test_update_board(api, ctx):
    make_board(ctx, "proj")
    body = api.patch("/boards/proj", json={"name": "New", "color": "#f00"}).json()
    assert body["board"]["name"] == "New" and body["board"]["color"] == "#f00"
    assert_error(api.patch("/boards/nope", json={"name": "x"}), 404)
    assert_error(api.patch("/boards/B%20A%20D", json={"name": "x"}), 400)
    assert_error(api.patch("/boards/proj", json={"name": " "}), 400, "name")


def test_delete_board(api, ctx):
    make_board(ctx, "proj")
    make_board(ctx, "gone")
    api.post("/boards/proj/switch")
    body = api.delete("/boards/proj").json()
    assert body["result"]["action"] == "archived" and body["current"] == "default"
    assert [b["slug"] for b in api.get("/boards").json()["boards"]] == ["default", "gone"]
    archived = api.get("/boards", params={"include_archived": "true"}).json()["boards"]
    assert {b["slug"]: b["archived"] for b in archived}["proj"] is True
    assert api.delete("/boards/gone", params={"delete": "true"}).json()["result"]["action"] == "deleted"
    assert_error(api.delete("/boards/default"), 400, "default")
    assert_error(api.delete("/boards/default", params={"delete": "true"}), 400, "default")
    assert_error(api.delete("/boards/gone"), 404)
    assert_error(api.delete("/boards/-x-"), 400)


def test_switch_board(api, ctx):
    make_board(ctx, "proj")
    assert api.post("/boards/proj/switch").json() == {"current": "proj"}
    assert api.get("/boards").json()["current"] == "proj"
    assert_error(api.post("/boards/nope/switch"), 404)
    assert_error(api.post("/boards/NO%20PE/switch"), 400)
