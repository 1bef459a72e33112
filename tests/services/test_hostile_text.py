"""Invalid text from any writer is refused with the same error on both backends; nothing changes."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import Forbidden, InvalidText, ValidationError
from agentkanban.services import comments, runs, tasks, transitions
from agentkanban.services.runs import Claim

from .helpers import BOARD, claim, make, worker_actor

TRUNCATED_EMOJI = "done \ud83d"  # the first half of U+1F600
LATIN1_ARG = "caf\udce9"  # b"caf\xe9" decoded by Python from a Latin-1 command line


def test_worker_notes_and_handoffs_with_invalid_text_are_refused(ctx, user):
    t = make(ctx, Status.READY)
    c: Claim = claim(ctx, t.id)
    w = worker_actor(c)
    before = runs.list_runs(ctx, BOARD, t.id)
    with pytest.raises(InvalidText, match="undecodable byte 0xe9"):
        runs.heartbeat(ctx, BOARD, t.id, actor=w, note=LATIN1_ARG)
    with pytest.raises(InvalidText, match="metadata.summary"):
        transitions.complete(ctx, BOARD, t.id, actor=w, metadata={"summary": TRUNCATED_EMOJI})
    with pytest.raises(InvalidText):
        transitions.complete(ctx, BOARD, t.id, actor=w, result=TRUNCATED_EMOJI)
    with pytest.raises(InvalidText):
        comments.add(ctx, BOARD, t.id, LATIN1_ARG, actor=w)
    after = tasks.show(ctx, BOARD, t.id)
    assert after.task.status is Status.RUNNING and after.comments == []
    assert runs.list_runs(ctx, BOARD, t.id) == before
    transitions.complete(ctx, BOARD, t.id, actor=w, result="fine")


@pytest.mark.parametrize("kw", [{"title": LATIN1_ARG}, {"title": "x", "skills": ["\udfff"]},
                                {"title": "x", "tenant": "a\x00"}, {"title": "x", "body": TRUNCATED_EMOJI}])
def test_create_refuses_invalid_text_on_both_backends(ctx, user, kw):
    with pytest.raises(InvalidText):
        tasks.create(ctx, BOARD, actor=user, **kw)
    assert tasks.list_tasks(ctx, BOARD) == []


@pytest.mark.parametrize("kw,needle", [
    ({"priority": 10**20}, "priority must be between"),
    ({"priority": 1.5}, "whole number"),
    ({"max_runtime_seconds": 10**15}, "max runtime"),
    ({"max_runtime_seconds": 0}, "max runtime"),
    ({"max_retries": 0}, "max retries"),
])
def test_limits_are_checked_in_the_service(ctx, user, kw, needle):
    with pytest.raises(ValidationError, match=needle):
        tasks.create(ctx, BOARD, title="x", actor=user, **kw)
    assert tasks.list_tasks(ctx, BOARD) == []
    t = make(ctx, Status.READY)
    with pytest.raises(ValidationError, match="priority"):
        tasks.reprioritize(ctx, BOARD, t.id, 2**63)


def test_a_stale_worker_cannot_comment(ctx, user):
    t = make(ctx, Status.READY)
    other = make(ctx, Status.READY, title="other")
    c = claim(ctx, t.id)
    w = worker_actor(c)
    comments.add(ctx, BOARD, t.id, "working", actor=w)
    runs.reclaim(ctx, BOARD, t.id, actor=user, reason="stuck")
    for target in (t.id, other.id):
        with pytest.raises(Forbidden, match="no longer current"):
            comments.add(ctx, BOARD, target, "still here", actor=w)
    assert [x.body for x in tasks.show(ctx, BOARD, t.id).comments] == ["working"]


def test_nul_in_json_kept_fields_is_refused_on_both_backends(ctx, user):
    """Values stored as JSON (a schedule's task template, checkpoint data) hide a NUL as the
    plain-ASCII escape ``\\u0000``: they are checked before they are encoded, like the rest."""
    from agentkanban.services import schedules

    with pytest.raises(InvalidText, match="NUL"):
        schedules.add(ctx, BOARD, title="nightly", cron="0 3 * * *", skills=["a\x00b"])
    with pytest.raises(InvalidText, match="NUL"):
        schedules.add(ctx, BOARD, title="nightly", cron="0 3 * * *", body="x\x00")
    assert schedules.list_schedules(ctx, BOARD) == []
    t = make(ctx, Status.READY)
    w = worker_actor(claim(ctx, t.id))
    before = runs.list_runs(ctx, BOARD, t.id)
    for data in ({"step": "a\x00"}, '{"step": "a\\u0000"}', ["\x00"]):
        with pytest.raises(InvalidText, match="NUL"):
            runs.heartbeat(ctx, BOARD, t.id, actor=w, data=data)
    assert runs.list_runs(ctx, BOARD, t.id) == before
