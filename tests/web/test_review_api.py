"""A person's review through the API: approve, request changes, approve a start; refusals."""

from __future__ import annotations

from agentkanban.services import Actor, runs, transitions

from .conftest import make_task
from .test_tasks_api import assert_error


def _in_review(ctx) -> str:
    tid = make_task(ctx, "needs a look", assignee="coder", review_by="human")
    c = runs.claim(ctx, "default", tid, profile="coder", lock="t", ttl=60)
    assert c is not None
    worker = Actor("coder", worker_task=tid, run_id=c.run_id, run_token=c.token)
    assert transitions.complete(ctx, "default", tid, actor=worker, summary="done it").status.value == "review"
    return tid


def test_request_changes_then_approve(api, ctx) -> None:
    tid = _in_review(ctx)
    assert_error(api.post(f"/tasks/{tid}/request-changes", json={"reason": ""}), 422)
    back = api.post(f"/tasks/{tid}/request-changes", json={"reason": "name the function better"})
    assert back.status_code == 200 and back.json()["status"] == "ready" and back.json()["review_rounds"] == 1
    assert_error(api.post(f"/tasks/{tid}/approve", json={}), 409, "not in review")
    c = runs.claim(ctx, "default", tid, profile="coder", lock="t", ttl=60)
    transitions.complete(ctx, "default", tid, actor=Actor("coder", worker_task=tid, run_id=c.run_id,
                                                         run_token=c.token), summary="renamed")
    done = api.post(f"/tasks/{tid}/approve", json={"summary": "good"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    detail = api.get(f"/tasks/{tid}").json()
    assert [(r["kind"], r["outcome"], r["profile"]) for r in detail["runs"]] == [
        ("work", "completed", "coder"), ("review", "changes_requested", "dashboard"),
        ("work", "completed", "coder"), ("review", "approved", "dashboard")]
    assert detail["runs"][2]["metadata"]["review"] == {"by": "dashboard", "summary": "good", "rounds": 1}
    assert_error(api.patch(f"/tasks/{tid}", json={"status": "review"}), 409, "review")


def test_approve_start(api, ctx) -> None:
    tid = make_task(ctx, "risky", assignee="coder", requires_approval=True)
    ok = api.post(f"/tasks/{tid}/approve-start")
    assert ok.status_code == 200 and ok.json()["approval"] == "approved"
    plain = make_task(ctx, "plain", assignee="coder")
    assert_error(api.post(f"/tasks/{plain}/approve-start"), 409, "does not wait for approval")
