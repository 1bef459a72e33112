"""`kanban show` says when a failed task's next attempt starts."""

from __future__ import annotations

from agentkanban.domain.models import OUTCOME_CRASHED
from agentkanban.services import Actor, runs, tasks


def test_show_says_when_the_next_attempt_starts(kanban, ctx):
    t = tasks.create(ctx, "default", title="flaky", actor=Actor("user"), assignee="coder").task
    c = runs.claim(ctx, "default", t.id, profile="coder", lock="test:1", ttl=900)
    assert c is not None
    runs.end_attempt(ctx, "default", t.id, c.run_id, outcome=OUTCOME_CRASHED, error="exit 1",
                     count_failure=True, failure_limit=5)
    shown = kanban("show", t.id, "--json").json()
    assert shown["retry"]["failure_class"] == "crashed" and shown["retry"]["failures"] == 1
    assert shown["retry"]["next_attempt_at"] > t.created_at
    text = kanban("show", t.id)
    assert "Next attempt: not before" in text.out and "crashed" in text.out
