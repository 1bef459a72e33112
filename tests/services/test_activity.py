"""What a running task is doing: its last heartbeat note, when, and the progress it reported."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import ValidationError
from agentkanban.services import board_page, runs

from .helpers import BOARD, claim, make, worker_actor


def running_card(ctx, tid):
    cols = {c["name"]: c["tasks"] for c in board_page.page(ctx, BOARD)["columns"]}
    return next(c for c in cols["running"] if c["id"] == tid)


def test_a_running_card_shows_the_last_note_its_age_and_progress(ctx, clock):
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    assert running_card(ctx, t.id)["activity"] == {"note": None, "note_at": None, "progress": None}
    runs.heartbeat(ctx, BOARD, t.id, actor=worker_actor(c), note="step 3 of 12", progress="3/12")
    said = int(clock())
    clock.advance(5)
    runs.heartbeat(ctx, BOARD, t.id, actor=worker_actor(c))  # no note: the last one stands
    card = running_card(ctx, t.id)
    assert card["activity"] == {"note": "step 3 of 12", "note_at": said,
                                "progress": {"done": 3, "total": 12}}
    assert card["last_heartbeat_at"] == int(clock())
    runs.heartbeat(ctx, BOARD, t.id, actor=worker_actor(c), progress=[4, 12])
    assert running_card(ctx, t.id)["activity"]["progress"] == {"done": 4, "total": 12}
    other = make(ctx, Status.READY, "waiting")
    cols = {c["name"]: c["tasks"] for c in board_page.page(ctx, BOARD)["columns"]}
    assert next(x for x in cols["ready"] if x["id"] == other.id)["activity"] is None



def test_a_running_card_names_the_runner_that_holds_it(ctx):
    local = make(ctx, Status.READY, "local")
    claim(ctx, local.id)  # the local dispatcher's lock: no runner
    remote = make(ctx, Status.READY, "remote")
    assert runs.claim(ctx, BOARD, remote.id, profile="coder", lock="runner/gpu-1:0:ab12cd34",
                      ttl=900) is not None
    waiting = make(ctx, Status.READY, "waiting")
    assert running_card(ctx, local.id)["runner"] is None
    assert running_card(ctx, remote.id)["runner"] == "gpu-1"
    cols = {c["name"]: c["tasks"] for c in board_page.page(ctx, BOARD)["columns"]}
    assert next(x for x in cols["ready"] if x["id"] == waiting.id)["runner"] is None


@pytest.mark.parametrize("bad", ["13/12", "3/0", "-1/4", "half", "3/12/1", {"done": 1}, [True, 2]])
def test_bad_progress_is_refused_and_changes_nothing(ctx, bad):
    t = make(ctx, Status.READY)
    c = claim(ctx, t.id)
    with pytest.raises(ValidationError):
        runs.heartbeat(ctx, BOARD, t.id, actor=worker_actor(c), note="never", progress=bad)
    assert running_card(ctx, t.id)["activity"] == {"note": None, "note_at": None, "progress": None}
