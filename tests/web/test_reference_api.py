"""The routes and fields the reference (Hermes 0.19) dashboard uses that go beyond the seed API:
its session-token header, delete by id, attachments, reclaim/reassign, orchestration and profiles,
card diagnostics, child results, board workspace defaults, goal mode, unknown fields refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentkanban.config import AttachmentSettings, Profile
from agentkanban.services import attachments as att_svc
from agentkanban.services import runs, transitions
from agentkanban.web.app import create_app

from .conftest import BASE, Api, make_board, make_task
from .test_tasks_api import assert_error


def _claim(ctx, tid: str, board: str = "default"):
    claim = runs.claim(ctx, board, tid, profile="bot", lock="elsewhere:1:x", ttl=900)
    assert claim is not None
    return claim


# -- auth -------------------------------------------------------------------------------------
def test_session_token_header_is_an_equal_alternative(anon, token):
    ok = anon.get("/api/plugins/kanban/board", headers={"X-Hermes-Session-Token": token})
    assert ok.status_code == 200
    for bad in ("", "wrong", token + "x", token[:-1]):
        resp = anon.get("/api/plugins/kanban/board", headers={"X-Hermes-Session-Token": bad})
        assert_error(resp, 401, "token")
    assert anon.get("/api/board", headers={"x-hermes-session-token": token}).status_code == 200


# -- delete -----------------------------------------------------------------------------------
def test_delete_finds_the_task_on_any_board_and_removes_everything(api, ctx, user):
    make_board(ctx, "other")
    parent = make_task(ctx, "parent", board="other")
    child = make_task(ctx, "child", board="other", parents=[parent])
    api.post(f"/tasks/{parent}/comments", params={"board": "other"}, json={"body": "hi"})
    up = api.post(f"/tasks/{parent}/attachments", params={"board": "other"},
                  files={"file": ("notes.txt", b"hello", "text/plain")})
    assert up.status_code == 200, up.text
    att_id = up.json()["attachment"]["id"]
    stored = att_svc.get(ctx, att_id)[1]
    assert stored.exists()

    resp = api.delete(f"/tasks/{parent}")  # no ?board=: the current board is "default"
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id"] == parent and body["board"] == "other" and body["attachments_removed"] == 1
    assert body["promoted"] == [child]
    assert_error(api.get(f"/tasks/{parent}", params={"board": "other"}), 404)
    assert_error(api.get(f"/attachments/{att_id}"), 404, "deleted")
    assert not stored.exists()
    assert api.get(f"/tasks/{child}", params={"board": "other"}).json()["task"]["status"] == "ready"
    assert_error(api.delete(f"/tasks/{parent}"), 404, "any board")


def test_delete_of_a_running_task_is_refused_and_changes_nothing(api, ctx):
    tid = make_task(ctx, "busy", assignee="bot")
    _claim(ctx, tid)
    assert_error(api.delete(f"/tasks/{tid}"), 409, "running", "reclaim")
    assert api.get(f"/tasks/{tid}").json()["task"]["status"] == "running"


# -- attachments ------------------------------------------------------------------------------
def test_attachment_round_trip_in_task_detail(mounted, ctx):
    tid = make_task(ctx, "with files")
    data = bytes(range(256)) * 10
    up = mounted.post(f"/tasks/{tid}/attachments", files={"file": ("report.bin", data, "x/y")},
                      data={"uploaded_by": "alice"})
    assert up.status_code == 200, up.text
    meta = up.json()["attachment"]
    assert meta["filename"] == "report.bin" and meta["size"] == len(data)
    assert meta["uploaded_by"] == "alice"
    detail = mounted.get(f"/tasks/{tid}").json()
    assert [(a["id"], a["filename"], a["size"]) for a in detail["attachments"]] == \
        [(meta["id"], "report.bin", len(data))]
    assert set(detail["attachments"][0]) >= {"id", "filename", "size", "content_type", "uploaded_by",
                                             "created_at"}
    got = mounted.get(f"/attachments/{meta['id']}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    # the same name twice: two files, nothing overwritten
    again = mounted.post(f"/tasks/{tid}/attachments", files={"file": ("report.bin", b"second", "x/y")})
    assert again.status_code == 200
    assert mounted.get(f"/attachments/{meta['id']}").content == data
    assert mounted.delete(f"/attachments/{meta['id']}").json() == {"ok": True}
    assert_error(mounted.get(f"/attachments/{meta['id']}"), 404)
    assert len(mounted.get(f"/tasks/{tid}").json()["attachments"]) == 1


def test_html_is_served_as_a_download_never_rendered(api, ctx):
    tid = make_task(ctx)
    html = b"<script>alert(1)</script>"
    for name in ("page.html", "image.svg", "x.xhtml"):
        att = api.post(f"/tasks/{tid}/attachments", files={"file": (name, html, "text/html")}).json()
        got = api.get(f"/attachments/{att['attachment']['id']}")
        assert got.status_code == 200 and got.content == html
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in got.headers["content-security-policy"]


@pytest.mark.parametrize("name", ["../../x", "a/b.txt", "..\\evil", ".."])
def test_bad_file_names_are_refused_and_nothing_is_kept(api, ctx, name):
    tid = make_task(ctx)
    resp = api.post(f"/tasks/{tid}/attachments", files={"file": (name, b"data", "text/plain")})
    assert resp.status_code == 400, resp.text
    assert api.get(f"/tasks/{tid}").json()["attachments"] == []
    root = att_svc.store_dir(ctx)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    assert not (Path(ctx.home).parent / "x").exists()


@pytest.mark.parametrize("name", ["bell\x07.txt", "nl\n.txt", "tab\t.txt", "del\x7f", "", "x" * 300])
def test_control_characters_and_odd_names_are_refused(ctx, name):
    from agentkanban.errors import ValidationError
    from agentkanban.services import Actor

    tid = make_task(ctx)
    with pytest.raises(ValidationError):
        att_svc.add(ctx, "default", tid, filename=name, chunks=[b"data"], actor=Actor("u"))
    assert att_svc.for_task(ctx, tid) == []
    root = att_svc.store_dir(ctx)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_an_attachment_over_the_limit_is_refused(settings, ctx):
    small = dataclasses.replace(settings, attachments=AttachmentSettings(max_bytes=1000))
    ctx.settings = small
    app = create_app(small, ctx=ctx)
    with TestClient(app, base_url=BASE) as c:
        c.headers["authorization"] = f"Bearer {app.state.token}"
        api = Api(c)
        tid = make_task(ctx)
        resp = api.post(f"/tasks/{tid}/attachments", files={"file": ("big.txt", b"x" * 1001, "text/plain")})
        assert_error(resp, 400, "limit", "attachments.max_bytes")
        huge = api.post(f"/tasks/{tid}/attachments", files={"file": ("huge.txt", b"x" * 200_000, "text/plain")})
        assert_error(huge, 400, "limit")
        assert api.post(f"/tasks/{tid}/attachments",
                        files={"file": ("ok.txt", b"x" * 1000, "text/plain")}).status_code == 200
        assert [a["size"] for a in api.get(f"/tasks/{tid}").json()["attachments"]] == [1000]
    root = att_svc.store_dir(ctx)
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1


def test_upload_needs_a_file_field(api, ctx):
    tid = make_task(ctx)
    assert_error(api.post(f"/tasks/{tid}/attachments", data={"other": "x"}), 400, "file")
    assert_error(api.post("/tasks/t_ffffffff/attachments", files={"file": ("a", b"x", "text/plain")}), 404)


# -- reclaim and reassign ---------------------------------------------------------------------
def test_reclaim_and_reassign_routes(api, ctx):
    tid = make_task(ctx, "stuck", assignee="bot")
    _claim(ctx, tid)
    resp = api.post(f"/tasks/{tid}/reclaim", json={"reason": "stuck"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["task"]["status"] == "ready"
    assert_error(api.post(f"/tasks/{tid}/reclaim", json={}), 409, "not running")
    _claim(ctx, tid)
    assert_error(api.post(f"/tasks/{tid}/reassign", json={"profile": "carol"}), 409, "running")
    resp = api.post(f"/tasks/{tid}/reassign", json={"profile": "carol", "reclaim_first": True,
                                                    "reason": "faster"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["task"]["assignee"] == "carol" and resp.json()["task"]["status"] == "ready"
    assert [c["body"] for c in api.get(f"/tasks/{tid}").json()["comments"]] == ["Reassigned to carol: faster"]
    runs_ = api.get(f"/tasks/{tid}").json()["runs"]
    assert [r["outcome"] for r in runs_] == ["reclaimed", "reclaimed"]


def test_bulk_reassign_with_reclaim_first(api, ctx):
    running = make_task(ctx, "a", assignee="bot")
    idle = make_task(ctx, "b", assignee="bot")
    _claim(ctx, running)
    refused = api.post("/tasks/bulk", json={"ids": [running, idle], "assignee": "carol"}).json()
    assert [r["ok"] for r in refused["results"]] == [False, True]
    resp = api.post("/tasks/bulk", json={"ids": [running, idle, "t_nothere"], "assignee": "dave",
                                         "reclaim_first": True})
    assert [r["ok"] for r in resp.json()["results"]] == [True, True, False]
    for tid in (running, idle):
        task = api.get(f"/tasks/{tid}").json()["task"]
        assert (task["assignee"], task["status"]) == ("dave", "ready")


# -- unknown fields, goal mode, board defaults ------------------------------------------------
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/tasks", {"title": "x", "colour": "red"}),
    ("patch", "/tasks/{tid}", {"titel": "typo"}),
    ("post", "/tasks/bulk", {"ids": ["{tid}"], "statuss": "done"}),
    ("post", "/boards", {"slug": "b", "workdir": "/tmp"}),
    ("put", "/orchestration", {"orchestrator": "x"}),
])
def test_unknown_fields_are_refused_with_422(api, ctx, method, path, body):
    tid = make_task(ctx, "untouched")
    body = {k: ([tid] if v == ["{tid}"] else v) for k, v in body.items()}
    resp = getattr(api, method)(path.replace("{tid}", tid), json=body)
    assert_error(resp, 422, "xtra")
    assert api.get(f"/tasks/{tid}").json()["task"]["title"] == "untouched"
    assert len(api.get("/tasks").json()["tasks"]) == 1


def test_goal_mode_is_stored_and_editable(api, ctx):
    task = api.post("/tasks", json={"title": "g", "goal_mode": True, "goal_max_turns": 7}).json()["task"]
    assert (task["goal_mode"], task["goal_max_turns"]) == (True, 7)
    card = next(c for c in api.get("/board").json()["columns"] if c["name"] == "ready")["tasks"][0]
    assert card["goal_mode"] is True and card["goal_max_turns"] == 7
    resp = api.patch(f"/tasks/{task['id']}", json={"goal_max_turns": 0})
    assert resp.json()["task"]["goal_max_turns"] is None and resp.json()["task"]["goal_mode"] is True
    resp = api.patch(f"/tasks/{task['id']}", json={"goal_mode": False})
    assert resp.json()["task"]["goal_mode"] is False
    assert_error(api.post("/tasks", json={"title": "g", "goal_max_turns": 3}), 400, "goal_mode")


def test_board_default_workdir_is_used_by_new_tasks(api, ctx, tmp_path):
    work = str(tmp_path / "proj")
    made = api.post("/boards", json={"slug": "proj", "default_workdir": work}).json()["board"]
    assert made["default_workdir"] == work
    t = api.post("/tasks", params={"board": "proj"}, json={"title": "a"}).json()["task"]
    assert (t["workspace_kind"], t["workspace_path"]) == ("dir", work)
    t = api.post("/tasks", params={"board": "proj"}, json={"title": "b", "workspace_kind": "worktree"}).json()["task"]
    assert (t["workspace_kind"], t["workspace_path"]) == ("worktree", work)
    t = api.post("/tasks", params={"board": "proj"}, json={"title": "c", "workspace_kind": "scratch"}).json()["task"]
    assert t["workspace_kind"] == "scratch"
    listed = {b["slug"]: b for b in api.get("/boards").json()["boards"]}
    assert listed["proj"]["default_workdir"] == work
    assert api.patch("/boards/proj", json={"default_workdir": ""}).json()["board"]["default_workdir"] is None
    assert_error(api.patch("/boards/proj", json={"default_workdir": "relative/dir"}), 400, "absolute")
    assert_error(api.post("/boards", json={"slug": "bad", "default_workdir": "rel"}), 400, "absolute")
    assert "bad" not in {b["slug"] for b in api.get("/boards").json()["boards"]}


# -- cards and detail -------------------------------------------------------------------------
def test_child_results_latest_summary_and_diagnostics(api, ctx, user):
    parent = make_task(ctx, "parent")
    kid = make_task(ctx, "kid")
    api.post("/links", json={"parent_id": parent, "child_id": kid})
    transitions.complete(ctx, "default", parent, actor=user, summary="parent summary")
    transitions.complete(ctx, "default", kid, actor=user, result="kid result", summary="kid summary")
    ghost = make_task(ctx, "for nobody", assignee="nobody-configured")
    detail = api.get(f"/tasks/{parent}").json()
    assert detail["task"]["latest_summary"] == "parent summary"
    assert detail["child_results"] == [{"id": kid, "title": "kid", "status": "done",
                                        "assignee": None, "result": "kid result",
                                        "latest_summary": "kid summary"}]
    cards = {c["id"]: c for col in api.get("/board").json()["columns"] for c in col["tasks"]}
    assert cards[parent]["latest_summary"] == "parent summary"
    assert cards[ghost]["warnings"]["kinds"] == {"unknown_assignee": 1}
    assert cards[ghost]["diagnostics"][0]["actions"][0]["kind"] == "reassign"
    assert cards[parent]["warnings"] is None and cards[parent]["diagnostics"] == []


def test_stuck_and_failing_tasks_are_flagged(api, ctx, clock):
    tid = make_task(ctx, "stuck", assignee="bot")
    _claim(ctx, tid)
    clock.advance(10_000)
    card = api.get(f"/tasks/{tid}").json()["task"]
    assert card["warnings"]["highest_severity"] == "error"
    assert [d["kind"] for d in card["diagnostics"]] == ["stuck"]
    assert card["diagnostics"][0]["actions"][0]["kind"] == "reclaim"


# -- orchestration and profiles ---------------------------------------------------------------
@pytest.fixture
def papi(settings, ctx):
    profiles = {"planner": Profile(command=["/usr/bin/planner-agent"]), "coder": Profile(command=["aider"])}
    s = dataclasses.replace(settings, profiles=profiles)
    ctx.settings = s
    app = create_app(s, ctx=ctx)
    with TestClient(app, base_url=BASE) as c:
        c.headers["authorization"] = f"Bearer {app.state.token}"
        yield Api(c, "/api/plugins/kanban")


def test_orchestration_settings_round_trip(papi):
    got = papi.get("/orchestration").json()
    assert got["orchestrator_profile"] == "" and got["resolved_orchestrator_profile"] == ""
    put = papi.put("/orchestration", json={"orchestrator_profile": "Planner", "default_assignee": "coder",
                                           "auto_decompose": True})
    assert put.status_code == 200, put.text
    got = papi.get("/orchestration").json()
    assert (got["orchestrator_profile"], got["default_assignee"], got["auto_decompose"]) == \
        ("planner", "coder", True)
    assert got["resolved_orchestrator_profile"] == "planner" and got["active_profile"] == "coder"
    assert_error(papi.put("/orchestration", json={"orchestrator_profile": "ghost"}), 400, "ghost")
    assert papi.get("/orchestration").json()["orchestrator_profile"] == "planner"
    assert papi.put("/orchestration", json={"orchestrator_profile": ""}).json()["orchestrator_profile"] == ""


def test_profile_descriptions_are_stored(papi, settings, ctx):
    roster = papi.get("/profiles").json()["profiles"]
    assert [p["name"] for p in roster] == ["coder", "planner"]
    assert set(roster[0]) >= {"name", "is_default", "description", "description_auto", "model",
                              "provider", "skill_count"}
    assert roster[1]["provider"] == "planner-agent"
    resp = papi.patch("/profiles/coder", json={"description": "writes Python"})
    assert resp.json()["profile"]["description"] == "writes Python"
    # durable: a new server on the same database sees it
    from agentkanban.services import orchestration

    assert {p["name"]: p["description"] for p in orchestration.roster(ctx)}["coder"] == "writes Python"
    assert_error(papi.patch("/profiles/ghost", json={"description": "x"}), 404, "ghost")
    assert papi.patch("/profiles/coder", json={"description": ""}).json()["profile"]["description"] == ""


def test_specify_and_decompose_say_what_to_configure(papi, ctx):
    tid = make_task(ctx, "rough idea", triage=True)
    for verb in ("specify", "decompose"):
        body = papi.post(f"/tasks/{tid}/{verb}", json={}).json()
        assert body["ok"] is False and "orchestrator profile" in body["reason"]
        assert "config.yaml" in body["reason"]
    body = papi.post("/profiles/coder/describe-auto", json={"overwrite": False}).json()
    assert body["ok"] is False and "orchestrator profile" in body["reason"]
    ready = make_task(ctx, "not triage")
    body = papi.post(f"/tasks/{ready}/specify", json={}).json()
    assert body["ok"] is False and "not triage" in body["reason"]
    assert papi.get(f"/tasks/{tid}").json()["task"]["status"] == "triage"


def test_scheduled_column_create_and_edit(api, ctx, clock):
    when = clock() + 3600
    t = api.post("/tasks", json={"title": "later", "scheduled_at": when}).json()["task"]
    assert (t["status"], t["scheduled_at"]) == ("scheduled", when)
    cols = {c["name"]: [x["id"] for x in c["tasks"]] for c in api.get("/board").json()["columns"]}
    assert cols["scheduled"] == [t["id"]]
    now_task = api.post("/tasks", json={"title": "now"}).json()["task"]
    moved = api.patch(f"/tasks/{now_task['id']}", json={"scheduled_at": when}).json()["task"]
    assert moved["status"] == "scheduled"
    released = api.patch(f"/tasks/{now_task['id']}", json={"scheduled_at": None}).json()["task"]
    assert (released["status"], released["scheduled_at"]) == ("ready", None)
    assert_error(api.patch(f"/tasks/{t['id']}", json={"scheduled_at": -1}), 400, "scheduled_at")
    assert api.get(f"/tasks/{t['id']}").json()["task"]["scheduled_at"] == when


def test_deleting_archived_tasks_removes_their_attachment_files(api, ctx, user):
    tid = make_task(ctx, "old")
    att = api.post(f"/tasks/{tid}/attachments", files={"file": ("a.txt", b"x", "text/plain")}).json()
    path = att_svc.get(ctx, att["attachment"]["id"])[1]
    transitions.archive(ctx, "default", tid, actor=user)
    from agentkanban.services import tasks as task_svc

    assert task_svc.delete_archived(ctx, "default", [tid]) == [tid]
    assert not path.exists()
