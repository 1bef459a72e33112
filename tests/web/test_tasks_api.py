"""GET /board, /tasks, /tasks/{id}; POST /tasks; PATCH /tasks/{id}; comments; links; bulk; log."""

from __future__ import annotations

import pytest

from agentkanban.services import health, runs, transitions
from agentkanban.services import tasks as task_svc

from .conftest import make_board, make_task

COLUMNS = ["triage", "todo", "scheduled", "ready", "running", "review", "blocked", "done"]


def assert_error(resp, code: int, *needles: str) -> None:
    assert resp.status_code == code, resp.text
    body = resp.json()
    # ``error`` (the refusing error's class) on the board's own refusals, not on schema errors.
    assert set(body) <= {"detail", "error"} and isinstance(body["detail"], str)
    assert isinstance(body.get("error", ""), str)
    for n in needles:
        assert n in body["detail"]


# -- GET /board -------------------------------------------------------------------------------
def test_board_groups_tasks_by_column_with_counts(api, ctx, user):
    parent = make_task(ctx, "parent", priority=1)
    child = make_task(ctx, "child", parents=[parent])
    make_task(ctx, "other", tenant="acme", assignee="bob", priority=5)
    api.post(f"/tasks/{parent}/comments", json={"body": "hello"})
    body = api.get("/board").json()
    assert [c["name"] for c in body["columns"]] == COLUMNS
    cols = {c["name"]: c["tasks"] for c in body["columns"]}
    assert [t["title"] for t in cols["ready"]] == ["other", "parent"]  # priority desc
    assert [t["id"] for t in cols["todo"]] == [child]
    p = next(t for t in cols["ready"] if t["id"] == parent)
    assert p["link_counts"] == {"parents": 0, "children": 1}
    assert p["progress"] == {"done": 0, "total": 1}
    assert p["comment_count"] == 1
    assert set(p["age"]) == {"created_age_seconds", "started_age_seconds", "time_to_complete_seconds"}
    assert cols["todo"][0]["progress"] is None
    assert body["tenants"] == ["acme"] and body["assignees"] == ["bob"]
    assert body["latest_event_id"] > 0 and isinstance(body["now"], int)


def test_board_filters_tenant_and_shows_archived_on_request(api, ctx, user):
    a = make_task(ctx, "a", tenant="acme")
    make_task(ctx, "b", tenant="other")
    gone = make_task(ctx, "gone")
    transitions.archive(ctx, "default", gone, actor=user)
    cols = {c["name"]: c["tasks"] for c in api.get("/board", params={"tenant": "acme"}).json()["columns"]}
    assert [t["id"] for t in cols["ready"]] == [a]
    body = api.get("/board", params={"include_archived": "true"}).json()
    assert body["columns"][-1]["name"] == "archived"
    assert [t["id"] for t in body["columns"][-1]["tasks"]] == [gone]


def test_board_is_scoped_by_board_param(api, ctx):
    make_board(ctx, "proj")
    make_task(ctx, "on default")
    on_proj = make_task(ctx, "on proj", board="proj")
    cols = {c["name"]: c["tasks"] for c in api.get("/board", params={"board": "proj"}).json()["columns"]}
    assert [t["id"] for t in cols["ready"]] == [on_proj]
    assert_error(api.get("/board", params={"board": "Bad Slug!"}), 400, "invalid board slug")
    assert_error(api.get("/board", params={"board": "nope"}), 404, "nope")


# -- GET /tasks, GET /tasks/{id} -----------------------------------------------------------------
def test_list_tasks_filters(api, ctx, user):
    a = make_task(ctx, "a", assignee="bob")
    b = make_task(ctx, "b")
    transitions.block(ctx, "default", b, actor=user, reason="x")
    assert {t["id"] for t in api.get("/tasks").json()["tasks"]} == {a, b}
    assert [t["id"] for t in api.get("/tasks", params={"status": "blocked"}).json()["tasks"]] == [b]
    assert [t["id"] for t in api.get("/tasks", params={"assignee": "bob"}).json()["tasks"]] == [a]
    assert len(api.get("/tasks", params={"limit": 1}).json()["tasks"]) == 1
    assert_error(api.get("/tasks", params={"status": "nonsense"}), 400, "unknown status")
    assert_error(api.get("/tasks", params={"sort": "nonsense"}), 400, "unknown sort")


def test_get_task_detail(api, ctx, user):
    parent = make_task(ctx, "parent")
    child = make_task(ctx, "child", parents=[parent])
    api.post(f"/tasks/{child}/comments", json={"body": "note", "author": "ann"})
    body = api.get(f"/tasks/{child}").json()
    assert body["task"]["id"] == child and body["task"]["status"] == "todo"
    assert body["links"] == {"parents": [parent], "children": []}
    assert [(c["author"], c["body"]) for c in body["comments"]] == [("ann", "note")]
    assert [e["kind"] for e in body["events"]] == ["created", "commented"]
    assert set(body["events"][0]) >= {"id", "task_id", "kind", "payload", "created_at", "run_id"}
    assert body["runs"] == []


def test_get_task_errors_and_board_scope(api, ctx):
    make_board(ctx, "proj")
    tid = make_task(ctx, "x", board="proj")
    assert_error(api.get("/tasks/t_00000000"), 404, "t_00000000")
    assert_error(api.get(f"/tasks/{tid}"), 404)
    assert api.get(f"/tasks/{tid}", params={"board": "proj"}).status_code == 200
    assert_error(api.get(f"/tasks/{tid}", params={"board": "nope"}), 404)
    assert_error(api.get(f"/tasks/{tid}", params={"board": "-bad"}), 400)


# -- POST /tasks ---------------------------------------------------------------------------------
def test_create_task(api, ctx):
    resp = api.post("/tasks", json={"title": "  write docs ", "body": "b", "priority": 3, "tenant": "acme",
                                    "skills": ["py"], "max_runtime_seconds": 60})
    assert resp.status_code == 200
    task = resp.json()["task"]
    assert (task["title"], task["status"], task["priority"], task["created_by"]) == (
        "write docs", "ready", 3, "dashboard")
    assert task["skills"] == ["py"] and "warning" not in resp.json()
    child = api.post("/tasks", json={"title": "c", "parents": [task["id"]]}).json()["task"]
    assert child["status"] == "todo"
    assert api.post("/tasks", json={"title": "t", "triage": True}).json()["task"]["status"] == "triage"


def test_create_task_warns_without_a_dispatcher(api, ctx, clock):
    resp = api.post("/tasks", json={"title": "t", "assignee": "bob"}).json()
    assert "dispatcher" in resp["warning"]
    health.record_dispatcher_tick(ctx)
    assert "warning" not in api.post("/tasks", json={"title": "t", "assignee": "bob"}).json()
    clock.advance(3600)
    assert "dispatcher" in api.post("/tasks", json={"title": "t", "assignee": "bob"}).json()["warning"]
    # Not ready, or not assigned: nothing to warn about.
    assert "warning" not in api.post("/tasks", json={"title": "t", "triage": True, "assignee": "bob"}).json()
    assert "warning" not in api.post("/tasks", json={"title": "t"}).json()


def test_create_task_idempotency_key(api):
    a = api.post("/tasks", json={"title": "t", "idempotency_key": "k1"}).json()["task"]["id"]
    b = api.post("/tasks", json={"title": "t", "idempotency_key": "k1"}).json()["task"]["id"]
    assert a == b


def test_create_task_errors(api, ctx):
    assert_error(api.post("/tasks", json={"title": "   "}), 400, "title")
    assert_error(api.post("/tasks", json={"body": "no title"}), 422, "title")
    assert_error(api.post("/tasks", json={"title": "t", "parents": ["t_ffffffff"]}), 400, "unknown parent")
    assert_error(api.post("/tasks", json={"title": "t", "workspace_kind": "dir"}), 400, "absolute")
    assert_error(api.post("/tasks", json={"title": "t", "workspace_kind": "dir",
                                          "workspace_path": "rel/path"}), 400, "absolute")
    assert_error(api.post("/tasks", content=b"{not json", headers={"content-type": "application/json"}),
                 422)
    assert_error(api.post("/tasks", json={"title": "t"}, params={"board": "nope"}), 404)


def test_create_task_on_another_board(api, ctx):
    make_board(ctx, "proj")
    tid = api.post("/tasks", json={"title": "t"}, params={"board": "proj"}).json()["task"]["id"]
    assert task_svc.get(ctx, "proj", tid).board == "proj"
    assert api.get("/tasks").json()["tasks"] == []


# -- PATCH /tasks/{id} ---------------------------------------------------------------------------
def test_patch_applies_fields_in_order(api, ctx):
    tid = make_task(ctx, "t")
    body = api.patch(f"/tasks/{tid}", json={"assignee": "Bob", "status": "blocked", "block_reason": "why",
                                            "priority": 7, "title": "new", "body": "nb"}).json()["task"]
    assert (body["assignee"], body["status"], body["priority"], body["title"], body["body"]) == (
        "bob", "blocked", 7, "new", "nb")
    kinds = [e["kind"] for e in api.get(f"/tasks/{tid}").json()["events"]]
    assert kinds == ["created", "assigned", "blocked", "reprioritized", "edited"]
    assert api.patch(f"/tasks/{tid}", json={"assignee": ""}).json()["task"]["assignee"] is None


def test_patch_status_moves(api, ctx):
    tid = make_task(ctx, "t")
    for status in ["todo", "ready", "blocked", "ready", "triage", "done"]:
        got = api.patch(f"/tasks/{tid}", json={"status": status, "summary": "did it"}).json()
        assert got["task"]["status"] == status, got
    runs_ = api.get(f"/tasks/{tid}").json()["runs"]
    assert runs_[-1]["summary"] == "did it"
    assert api.patch(f"/tasks/{tid}", json={"status": "archived"}).json()["task"]["status"] == "archived"


def test_patch_done_carries_the_handoff(api, ctx):
    tid = make_task(ctx, "t")
    resp = api.patch(f"/tasks/{tid}", json={"status": "done", "result": "r", "summary": "s",
                                            "metadata": {"files": ["a.py"]}})
    assert resp.json()["task"]["result"] == "r"
    run = api.get(f"/tasks/{tid}").json()["runs"][0]
    assert (run["summary"], run["metadata"]) == ("s", {"files": ["a.py"]})


def test_patch_refusals(api, ctx):
    tid = make_task(ctx, "t")
    assert_error(api.patch(f"/tasks/{tid}", json={"status": "running"}), 400, "running")
    assert_error(api.patch(f"/tasks/{tid}", json={"status": "bogus"}), 400, "unknown status")
    assert_error(api.patch(f"/tasks/{tid}", json={"title": " "}), 400, "title")
    assert_error(api.patch("/tasks/t_ffffffff", json={"priority": 1}), 404)
    api.patch(f"/tasks/{tid}", json={"status": "done"})
    assert_error(api.patch(f"/tasks/{tid}", json={"status": "done"}), 409, "already done")
    assert api.get(f"/tasks/{tid}").json()["task"]["status"] == "done"


def test_patch_ready_names_the_parent_that_is_not_done(api, ctx):
    parent = make_task(ctx, "the parent")
    child = make_task(ctx, "child", parents=[parent])
    assert_error(api.patch(f"/tasks/{child}", json={"status": "ready"}), 409, parent, "the parent")


def test_patch_assign_while_running_is_refused(api, ctx):
    tid = make_task(ctx, "t", assignee="bob")
    assert runs.claim(ctx, "default", tid, profile="bob", lock="l", ttl=60) is not None
    assert_error(api.patch(f"/tasks/{tid}", json={"assignee": "ann"}), 409, "running")
    # Leaving running through the API is allowed (a person yanking a stuck worker back).
    assert api.patch(f"/tasks/{tid}", json={"status": "ready"}).json()["task"]["status"] == "ready"


def test_patch_board_scope(api, ctx):
    make_board(ctx, "proj")
    tid = make_task(ctx, "t", board="proj")
    assert_error(api.patch(f"/tasks/{tid}", json={"priority": 2}), 404)
    assert api.patch(f"/tasks/{tid}", json={"priority": 2}, params={"board": "proj"}).status_code == 200
    assert_error(api.patch(f"/tasks/{tid}", json={"priority": 2}, params={"board": "NO!"}), 400)


# -- comments ------------------------------------------------------------------------------------
def test_comments(api, ctx):
    make_board(ctx, "proj")
    tid = make_task(ctx, "t")
    assert api.post(f"/tasks/{tid}/comments", json={"body": "hi"}).json() == {"ok": True}
    assert api.get(f"/tasks/{tid}").json()["comments"][0]["author"] == "dashboard"
    assert_error(api.post(f"/tasks/{tid}/comments", json={"body": "  "}), 400, "body")
    assert_error(api.post("/tasks/t_ffffffff/comments", json={"body": "x"}), 404)
    assert_error(api.post(f"/tasks/{tid}/comments", json={"body": "x"}, params={"board": "proj"}), 404)
    assert_error(api.post(f"/tasks/{tid}/comments", json={}), 422)


# -- links ---------------------------------------------------------------------------------------
def test_links(api, ctx):
    a, b = make_task(ctx, "a"), make_task(ctx, "b")
    assert api.post("/links", json={"parent_id": a, "child_id": b}).json() == {"ok": True}
    assert api.get(f"/tasks/{b}").json()["task"]["status"] == "todo"
    assert_error(api.post("/links", json={"parent_id": b, "child_id": a}), 400, "cycle")
    assert_error(api.post("/links", json={"parent_id": a, "child_id": a}), 400, "itself")
    assert_error(api.post("/links", json={"parent_id": a, "child_id": "t_ffffffff"}), 400, "unknown child")
    assert api.delete("/links", params={"parent_id": a, "child_id": b}).json() == {"ok": True}
    assert api.get(f"/tasks/{b}").json()["task"]["status"] == "ready"
    assert api.delete("/links", params={"parent_id": a, "child_id": b}).json() == {"ok": False}
    assert api.delete("/links", params={"parent_id": a, "child_id": "t_ffffffff"}).json() == {"ok": False}
    assert_error(api.delete("/links", params={"parent_id": a}), 422)


def test_links_board_scope(api, ctx):
    make_board(ctx, "proj")
    a, b = make_task(ctx, "a", board="proj"), make_task(ctx, "b", board="proj")
    assert_error(api.post("/links", json={"parent_id": a, "child_id": b}), 400, "unknown")
    assert api.post("/links", json={"parent_id": a, "child_id": b}, params={"board": "proj"}).json()["ok"]
    assert_error(api.post("/links", json={"parent_id": a, "child_id": b}, params={"board": "x y"}), 400)


# -- bulk ----------------------------------------------------------------------------------------
def test_bulk_priority_status_assignee(api, ctx):
    ids = [make_task(ctx, f"t{i}") for i in range(3)]
    res = api.post("/tasks/bulk", json={"ids": ids, "priority": 4, "assignee": "bob"}).json()["results"]
    assert res == [{"id": i, "ok": True} for i in ids]
    res = api.post("/tasks/bulk", json={"ids": ids, "status": "blocked",
                                        "block_reason": "waiting on legal"}).json()["results"]
    assert all(r["ok"] for r in res)
    events = api.get(f"/tasks/{ids[0]}").json()["events"]
    assert events[-1]["kind"] == "blocked" and events[-1]["payload"]["reason"] == "waiting on legal"
    tasks = {t["id"]: t for t in api.get("/tasks").json()["tasks"]}
    assert {(t["priority"], t["assignee"], t["status"]) for t in tasks.values()} == {(4, "bob", "blocked")}
    res = api.post("/tasks/bulk", json={"ids": ids, "status": "ready"}).json()["results"]
    assert all(r["ok"] for r in res)


def test_bulk_never_starts_a_task(api, ctx):
    ids = [make_task(ctx, "a", assignee="bob"), make_task(ctx, "b")]
    res = api.post("/tasks/bulk", json={"ids": ids, "status": "running"}).json()["results"]
    assert [r["ok"] for r in res] == [False, False]
    assert all("running" in r["error"] for r in res)
    assert {t["status"] for t in api.get("/tasks").json()["tasks"]} == {"ready"}


def test_bulk_is_independent_per_id_and_archive_wins(api, ctx):
    a = make_task(ctx, "a")
    done = make_task(ctx, "done")
    api.patch(f"/tasks/{done}", json={"status": "done"})
    res = api.post("/tasks/bulk", json={"ids": [a, "t_ffffffff", done], "status": "done"}).json()["results"]
    assert [r["ok"] for r in res] == [True, False, False]
    assert "already done" in res[2]["error"]
    res = api.post("/tasks/bulk", json={"ids": [a], "archive": True, "status": "todo"}).json()["results"]
    assert res[0]["ok"] and api.get(f"/tasks/{a}").json()["task"]["status"] == "archived"


def test_bulk_errors_and_scope(api, ctx):
    make_board(ctx, "proj")
    tid = make_task(ctx, "t", board="proj")
    assert_error(api.post("/tasks/bulk", json={"ids": []}), 400, "ids")
    assert_error(api.post("/tasks/bulk", json={"ids": [""]}), 400, "ids")
    assert api.post("/tasks/bulk", json={"ids": [tid], "priority": 1}).json()["results"][0]["ok"] is False
    res = api.post("/tasks/bulk", json={"ids": [tid], "priority": 1}, params={"board": "proj"}).json()
    assert res["results"][0]["ok"] is True
    assert_error(api.post("/tasks/bulk", json={"ids": [tid]}, params={"board": "zzz"}), 404)


# -- log -----------------------------------------------------------------------------------------
def test_task_log(api, ctx):
    from agentkanban.dispatch import logs

    tid = make_task(ctx, "t")
    body = api.get(f"/tasks/{tid}/log").json()
    assert (body["exists"], body["content"], body["size_bytes"], body["truncated"]) == (False, "", 0, False)
    path = logs.log_path(ctx, "default", tid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("first line\nsecond line\n")
    body = api.get(f"/tasks/{tid}/log").json()
    assert body["exists"] and body["content"] == "first line\nsecond line\n" and body["size_bytes"] == 23
    assert body["path"] == str(path) and not body["truncated"]
    tail = api.get(f"/tasks/{tid}/log", params={"tail": 15}).json()
    assert tail["truncated"] and tail["content"] == "second line\n"
    assert_error(api.get("/tasks/t_ffffffff/log"), 404)
    assert_error(api.get(f"/tasks/{tid}/log", params={"tail": 0}), 422)
    assert_error(api.get(f"/tasks/{tid}/log", params={"board": "nope"}), 404)


@pytest.mark.parametrize("status", ["todo", "triage"])
def test_patch_direct_moves(api, ctx, status):
    tid = make_task(ctx, "t")
    assert api.patch(f"/tasks/{tid}", json={"status": status}).json()["task"]["status"] == status


def test_values_the_database_cannot_hold_are_refused_not_500(api, ctx):
    assert_error(api.post("/tasks", json={"title": "t", "priority": 2**40}), 422)
    assert_error(api.post("/tasks", json={"title": "t", "max_runtime_seconds": 0}), 422)
    # PostgreSQL text cannot hold NUL, so no backend stores it: the same answer on both.
    assert_error(api.post("/tasks", json={"title": "a\x00b"}), 422, "NUL")
    assert_error(api.get("/tasks", params={"tenant": "\x00"}), 422, "NUL")  # reads too
    assert api.get("/tasks").json()["tasks"] == []


def test_board_page_for_the_dashboard(api, ctx, user):
    for i in range(3):
        make_task(ctx, f"task {i}", assignee="" if i else "ann")
    body = api.get("/board/page", params={"limit": 2}).json()
    ready = next(c for c in body["columns"] if c["name"] == "ready")
    assert (ready["count"], len(ready["tasks"]), ready["next_offset"]) == (3, 2, 2)
    more = api.get("/board/page", params={"column": "ready", "offset": 2, "limit": 2}).json()
    assert [c["name"] for c in more["columns"]] == ["ready"] and len(more["columns"][0]["tasks"]) == 1
    unassigned = api.get("/board/page", params={"assignee": ""}).json()
    assert sum(c["count"] for c in unassigned["columns"]) == 2
    assert_error(api.get("/board/page", params={"limit": 0}), 422)
    # Without column, offset pages every column alike (a query the schema can state).
    every = api.get("/board/page", params={"offset": 2, "limit": 2}).json()
    assert [len(c["tasks"]) for c in every["columns"] if c["name"] == "ready"] == [1]
    assert_error(api.get("/board/page", params={"column": "nope"}), 400, "unknown status")
    assert api.client.get("/api/board/page", headers={"authorization": ""}).status_code == 401
