"""The usage routes and the task cost limit over HTTP."""

from __future__ import annotations

import yaml

from agentkanban.services import runs, tasks
from agentkanban.services import usage as usage_svc


def test_usage_report_summary_and_task_usage(api, ctx, user):
    t = tasks.create(ctx, "default", title="t", actor=user, assignee="coder").task
    claim = runs.claim(ctx, "default", t.id, profile="coder", lock="h:1:x", ttl=900)
    assert claim is not None
    usage_svc.record(ctx, "default", t.id, actor=user, input_tokens=1000, output_tokens=10, cost_usd=0.75)
    report = api.get("/usage", params={"by": "profile,day"}).json()
    assert report["by"] == ["profile", "day"]
    assert report["rows"][0]["profile"] == "coder" and report["rows"][0]["cost_usd"] == 0.75
    assert report["total"]["tokens"] == 1010
    assert api.get("/usage", params={"by": "colour"}).status_code == 400
    summary = api.get("/usage/summary").json()
    assert summary["today"]["cost_usd"] == 0.75 and summary["holds"] == {"board": None, "profiles": {}}
    mine = api.get(f"/tasks/{t.id}/usage").json()
    assert mine["total"]["cost_usd"] == 0.75 and [r["run"] for r in mine["runs"]] == [claim.run_id]


def test_summary_names_held_profiles(settings, home, api, ctx, user):
    (home / "config.yaml").write_text(yaml.safe_dump({"budgets": {"profiles": {"coder": {"daily_usd": 0}}}}))
    from agentkanban.config import load_settings
    from agentkanban.services import budgets

    ctx.settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": settings.database_url})
    held = budgets.held_scopes(ctx, "default")
    assert held["profiles"]["coder"].startswith("profile coder: daily budget reached")
    assert api.get("/usage/summary").json()["holds"]["profiles"] == held["profiles"]


def test_task_cost_limit_through_create_and_patch(api, ctx):
    bad = api.post("/tasks", json={"title": "t", "max_cost_usd": -1})
    assert bad.status_code == 422
    t = api.post("/tasks", json={"title": "t", "max_cost_usd": 4}).json()["task"]
    assert api.get(f"/tasks/{t['id']}/usage").json()["max_cost_usd"] == 4
    assert api.patch(f"/tasks/{t['id']}", json={"max_cost_usd": 10}).status_code == 200
    assert api.get(f"/tasks/{t['id']}/usage").json()["max_cost_usd"] == 10
    assert api.patch(f"/tasks/{t['id']}", json={"max_cost_usd": 0}).status_code == 200
    assert api.get(f"/tasks/{t['id']}/usage").json()["max_cost_usd"] is None
