"""Schedules and the doctor through the HTTP API: the same services, the one error shape."""

from __future__ import annotations

from agentkanban.services import boards, tasks

from .test_tasks_api import assert_error


def test_schedules_crud_and_errors(api, ctx, clock):
    assert api.get("/schedules").json() == {"schedules": []}
    r = api.post("/schedules", json={"title": "Triage", "cron": "0 9 * * MON-FRI",
                                     "tz": "Europe/Berlin", "assignee": "Triager", "priority": 2,
                                     "skip_if_open": True})
    assert r.status_code == 200, r.text
    s = r.json()["schedule"]
    assert (s["cron"], s["tz"], s["catch_up"], s["skip_if_open"], s["paused"]) == (
        "0 9 * * MON-FRI", "Europe/Berlin", "latest", True, False)
    assert s["template"]["assignee"] == "Triager" and s["next_at"] > clock()
    assert api.post(f"/schedules/{s['id']}/pause").json()["schedule"]["paused"] is True
    assert api.post(f"/schedules/{s['id']}/resume").json()["schedule"]["paused"] is False
    assert [x["id"] for x in api.get("/schedules").json()["schedules"]] == [s["id"]]
    assert_error(api.post("/schedules", json={"title": "x", "cron": "every day"}), 400, "cron:")
    assert_error(api.post("/schedules", json={"title": "x", "cron": "0 9 * * *", "tz": "Moon/Base"}),
                 400, "tz:")
    assert_error(api.post("/schedules", json={"title": "x", "cron": "0 9 * * *", "catch_up": "maybe"}), 422)
    # Schedules belong to their board.
    boards.create(ctx, "other")
    assert_error(api.post(f"/schedules/{s['id']}/pause", params={"board": "other"}), 404, "not found")
    assert api.delete(f"/schedules/{s['id']}").json() == {"ok": True}
    assert_error(api.delete(f"/schedules/{s['id']}"), 404)


def test_doctor_route_and_repair(api, ctx, user):
    assert api.get("/doctor").json() == {"findings": []}
    t = tasks.create(ctx, "default", title="nobody", actor=user).task
    [f] = api.get("/doctor").json()["findings"]
    assert (f["code"], f["task_id"], f["repairable"]) == ("ready_unassigned", t.id, False)
    root = boards.workspaces_dir(ctx, "default")
    (root / "t_0badcafe").mkdir(parents=True)
    r = api.post("/doctor/repair").json()
    assert [x["task_id"] for x in r["repaired"]] == ["t_0badcafe"]
    assert [x["code"] for x in r["needs_person"]] == ["ready_unassigned"]
    assert not (root / "t_0badcafe").exists()
