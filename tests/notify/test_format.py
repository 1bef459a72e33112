"""Message texts: outcome, task id and title first; then assignee, detail and link."""

from __future__ import annotations

from agentkanban.domain.models import Event, Task
from agentkanban.domain.statuses import Status
from agentkanban.notify.base import Destination
from agentkanban.notify.format import idempotency_key, render

DEST = Destination("telegram", "-100", "7")


def _task(**kw) -> Task:
    base = dict(id="t_abc123", board="ops", title="Rotate the keys", body=None, assignee="sec-bot",
                status=Status.BLOCKED, priority=0, tenant=None, created_by="user", created_at=0.0,
                updated_at=0.0, started_at=None, completed_at=None, workspace_kind="scratch",
                workspace_path=None, idempotency_key=None, consecutive_failures=0,
                last_failure_error=None, max_runtime_seconds=None, max_retries=None,
                last_heartbeat_at=None, current_run_id=None, worker_pid=None, claim_lock=None,
                claim_expires=None)
    return Task(**{**base, **kw})


def _event(kind: str, payload=None, id=9) -> Event:
    return Event(id=id, board="ops", task_id="t_abc123", run_id=None, kind=kind, payload=payload,
                 created_at=0.0)


def test_timed_out_names_the_limit_and_links_to_the_task():
    m = render(_task(max_runtime_seconds=900), _event("timed_out", {"error": "killed after 900s"}), DEST,
               "https://board.example/")
    assert m.text.splitlines() == [
        "⏱️ [ops] t_abc123 timed out after 900s: Rotate the keys",
        "Assignee: @sec-bot",
        "Error: killed after 900s",
        "https://board.example/?board=ops&task=t_abc123",
    ]
    assert m.data["url"] == "https://board.example/?board=ops&task=t_abc123"


def test_no_link_without_public_url_and_no_assignee_line_when_unassigned():
    m = render(_task(assignee=None), _event("blocked", {"reason": None}), DEST)
    assert m.text.splitlines() == ["⏸️ [ops] t_abc123 blocked: Rotate the keys", "No reason given."]
    assert m.data["url"] is None


def test_completed_falls_back_to_the_result_and_clips_long_text():
    long_title = "x" * 500
    m = render(_task(title=long_title, result="42 rows imported\nrest"), _event("completed", {}), DEST)
    first, _assignee, detail = m.text.splitlines()
    assert len(first) < 160 and first.endswith("…")
    assert detail == "42 rows imported"


def test_idempotency_key_is_stable_per_event_and_destination():
    e = _event("completed")
    assert idempotency_key(e, DEST) == idempotency_key(_event("completed"), DEST)
    assert idempotency_key(e, DEST) != idempotency_key(_event("completed", id=10), DEST)
    assert idempotency_key(e, DEST) != idempotency_key(e, Destination("telegram", "-100", "8"))
    assert len(idempotency_key(e, DEST)) == 25


def test_budget_reached_says_which_limit_and_how_many_wait():
    reason = "profile sec-bot: daily budget reached ($20.40 of $20.00); dispatch resumes at 2026-12-05 00:00 UTC"
    m = render(_task(status=Status.READY), _event("budget_reached", {"reason": reason, "waiting": 3}), DEST)
    assert m.text.splitlines() == [
        "💸 [ops] t_abc123 budget reached, 3 task(s) waiting: Rotate the keys",
        "Assignee: @sec-bot",
        reason,
    ]


def test_review_messages_say_what_a_person_decides():
    asked = render(_task(status=Status.REVIEW), _event("review_requested", {"assignee": "sec-bot"}), DEST)
    assert asked.text.splitlines()[0] == "👀 [ops] t_abc123 needs your review: Rotate the keys"
    back = render(_task(status=Status.READY),
                  _event("changes_requested", {"reason": "add a test\nand docs", "round": 2}), DEST)
    assert back.text.splitlines()[0] == "↩️ [ops] t_abc123 changes requested (round 2): Rotate the keys"
    assert back.text.splitlines()[-1] == "add a test"
    gate = render(_task(status=Status.READY), _event("approval_requested"), DEST)
    assert gate.text.splitlines()[0] == "🔐 [ops] t_abc123 awaiting approval to start: Rotate the keys"
