"""The rules the OpenAPI schema states are the rules the API applies, both ways (the fuzzer in
test_fuzz.py checks this broadly; these are the cases where the two used to differ)."""

from __future__ import annotations

import re

from .conftest import make_board, make_task
from .test_tasks_api import assert_error


def _schema(api) -> dict:
    return api.get("/openapi.json").json()


def test_integers_are_json_numbers(api):
    made = api.post("/tasks", json={"title": "whole", "priority": 7.0})
    assert made.status_code == 200 and made.json()["task"]["priority"] == 7
    for bad in (True, "7", 7.5):
        assert_error(api.post("/tasks", json={"title": "x", "priority": bad}), 422)
    assert_error(api.post("/tasks", json={"title": "x", "triage": 0}), 422)
    assert [t["title"] for t in api.get("/tasks").json()["tasks"]] == ["whole"]


def test_days_are_exactly_yyyy_mm_dd(api):
    assert api.get("/usage?since=2026-01-05").status_code == 200
    for bad in ("2026-1-5", "2026-01-5", "2026-02-30", ""):
        assert_error(api.get("/usage", params={"since": bad}), 400, "YYYY-MM-DD")


def test_scheduled_at_is_seconds_before_the_year_10000(api, ctx):
    far = api.post("/tasks", json={"title": "far", "scheduled_at": 4_102_444_800})  # 2100
    assert far.status_code == 200 and far.json()["task"]["status"] == "scheduled"
    for bad in (0, -5, 1_767_225_600_000):  # the last one is milliseconds
        assert_error(api.post("/tasks", json={"title": "x", "scheduled_at": bad}), 400, "scheduled_at")


def test_creating_an_existing_board_with_a_blank_name_keeps_its_name(api, ctx):
    made = api.post("/boards", json={"slug": "ops", "name": ""}).json()["board"]
    assert made["name"] == "Ops"
    api.patch("/boards/ops", json={"name": "Operations"})
    again = api.post("/boards", json={"slug": "ops", "name": "  "})
    assert again.status_code == 200 and again.json()["board"]["name"] == "Operations"
    assert_error(api.patch("/boards/ops", json={"name": " "}), 400, "cannot be empty")


def test_a_default_kind_needing_a_workdir_is_a_conflict_unless_the_request_clears_it(api, ctx):
    make_board(ctx, "plain")
    assert_error(api.patch("/boards/plain", json={"default_workspace_kind": "dir"}), 409,
                 "needs a default_workdir")
    assert_error(api.patch("/boards/plain", json={"default_workspace_kind": "dir",
                                                  "default_workdir": ""}), 400)
    ok = api.patch("/boards/plain", json={"default_workspace_kind": "dir", "default_workdir": "/srv"})
    assert ok.status_code == 200 and ok.json()["board"]["default_workdir"] == "/srv"
    assert api.patch("/boards/plain", json={"default_workspace_kind": "worktree"}).status_code == 200


def test_offset_without_column_pages_every_column(api, ctx):
    for i in range(3):
        make_task(ctx, f"t{i}")
    page = api.get("/board/page?offset=2&limit=5").json()
    ready = next(c for c in page["columns"] if c["name"] == "ready")
    assert ready["count"] == 3 and len(ready["tasks"]) == 1


def test_the_schema_names_this_servers_profiles_and_the_slug_rule(api, ctx):
    schema = _schema(api)
    comps = schema["components"]["schemas"]
    prop = comps["OrchestrationIn"]["properties"]["default_assignee"]["anyOf"][0]
    assert re.search(prop["pattern"], "") and not re.search(prop["pattern"], "nobody")
    slug = comps["CreateBoardIn"]["properties"]["slug"]["pattern"]
    assert re.search(slug, " Ops-1 ") and not re.search(slug, "a/b") and not re.search(slug, "")
    delete = next(p for p in schema["paths"]["/api/boards/{slug}"]["delete"]["parameters"]
                  if p["name"] == "slug")["schema"]["pattern"]
    assert not re.search(delete, " Default ") and re.search(delete, "defaults")
    assert_error(api.client.delete("/api/boards/Default"), 400, "default board")
