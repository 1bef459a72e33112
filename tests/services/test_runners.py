"""Runners on the server's side: tokens, registration, claims with routing and caps, leases, logs
and exit reports, revocation, and what the board says when no runner can take a task."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentkanban.config import Profile
from agentkanban.dispatch.dispatcher import Dispatcher
from agentkanban.domain.statuses import Status
from agentkanban.errors import Conflict, Forbidden, TooLarge, Unauthorized, ValidationError
from agentkanban.services import Actor, health, runner_work, runs, tasks, why
from agentkanban.services import runners as svc
from agentkanban.services.verbs import complete as complete_verb

from .helpers import BOARD

USER = Actor("alice")
LEASE = 60


@pytest.fixture
def rctx(ctx):
    ctx.settings = replace(ctx.settings, dispatch=replace(ctx.settings.dispatch, claim_ttl_seconds=LEASE,
                                                          failure_limit=3))
    return ctx


def runner(ctx, name, profiles=("remote",), labels=(), capacity=2, **limits):
    _, token = svc.create_token(ctx, name, **limits)
    svc.register(ctx, token, labels=list(labels), profiles=list(profiles), capacity=capacity,
                 version="1", host=f"{name}.example")
    return token


def new(ctx, assignee="remote", **kw):
    ctx.clock.advance(1)  # one after the other in the ready queue
    return tasks.create(ctx, BOARD, title="t", actor=USER, assignee=assignee, **kw).task


def status(ctx, task_id):
    return tasks.show(ctx, BOARD, task_id).task.status


def test_only_the_token_hash_is_stored_and_a_wrong_or_revoked_token_is_refused(rctx):
    token = runner(rctx, "gpu-1")
    assert token.startswith("kbr_")
    with rctx.store.read() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM runners")]
    assert rows and all(token not in str(v) for row in rows for v in row)
    assert svc.authenticate(rctx, token).name == "gpu-1"
    for bad in (None, "", "kbr_nope", token[:-1], "Bearer " + token):
        with pytest.raises(Unauthorized):
            svc.authenticate(rctx, bad)
    with pytest.raises(Conflict, match="revoke it first"):
        svc.create_token(rctx, "gpu-1")
    svc.revoke(rctx, "gpu-1", actor=USER)
    with pytest.raises(Unauthorized):
        runner_work.claim(rctx, token, 1)
    _, again = svc.create_token(rctx, "gpu-1")  # a revoked name may get a new token
    assert svc.authenticate(rctx, again).name == "gpu-1"


def test_registration_must_stay_within_the_token(rctx):
    _, token = svc.create_token(rctx, "mac-1", profiles=["ios"], labels=["macos"])
    before = svc.list_runners(rctx)
    with pytest.raises(ValidationError, match="no profiles"):
        svc.register(rctx, token, labels=[], profiles=[], capacity=1, version=None, host=None)
    with pytest.raises(Forbidden, match="offered android"):
        svc.register(rctx, token, labels=[], profiles=["ios", "android"], capacity=1, version=None, host=None)
    with pytest.raises(Forbidden, match="offered gpu"):
        svc.register(rctx, token, labels=["gpu"], profiles=["ios"], capacity=1, version=None, host=None)
    with pytest.raises(ValidationError, match="capacity"):
        svc.register(rctx, token, labels=[], profiles=["ios"], capacity=0, version=None, host=None)
    with pytest.raises(ValidationError, match="not a runner label"):
        svc.register(rctx, token, labels=["no spaces"], profiles=["ios"], capacity=1, version=None, host=None)
    assert svc.list_runners(rctx) == before  # nothing changed
    with pytest.raises(ValidationError, match="runner name"):
        svc.create_token(rctx, "../etc")


def test_claim_gives_the_runner_its_profiles_only_within_its_capacity(rctx):
    token = runner(rctx, "r1", profiles=["remote"], capacity=2)
    mine = [new(rctx) for _ in range(3)]
    other = new(rctx, assignee="elsewhere")
    work = runner_work.claim(rctx, token, 5)
    assert [w["task_id"] for w in work] == [t.id for t in mine[:2]]
    item = work[0]
    assert item["run_token"] and item["board"] == BOARD and item["profile"] == "remote"
    assert item["lease_expires"] == pytest.approx(rctx.now() + LEASE)
    assert runner_work.claim(rctx, token, 5) == []  # at capacity
    assert status(rctx, mine[2].id) is Status.READY and status(rctx, other.id) is Status.READY
    listed = {r["name"]: r for r in svc.list_runners(rctx)}["r1"]
    assert listed["online"] and {x["task_id"] for x in listed["running"]} == {t.id for t in mine[:2]}


def test_labels_route_tasks_to_runners_that_carry_them(rctx):
    rctx.settings = replace(rctx.settings, profiles={
        "mac": Profile(command=["true"], runs_on=["macos"])})
    plain = runner(rctx, "plain", profiles=["mac", "remote"])
    mac = runner(rctx, "mac-1", profiles=["mac", "remote"], labels=["macos", "xcode"])
    by_profile = new(rctx, assignee="mac")
    by_task = new(rctx, runs_on=["XCode"])
    assert runner_work.claim(rctx, plain, 2) == []
    assert {w["task_id"] for w in runner_work.claim(rctx, mac, 2)} == {by_profile.id, by_task.id}
    assert runner_work.runs_on(rctx, by_task.id) == ["xcode"]


def test_the_local_dispatcher_leaves_runner_only_tasks_alone(rctx):
    rctx.settings = replace(rctx.settings, profiles={
        "mac": Profile(command=["true"], runs_on=["macos"]), "remote": Profile(command=["true"])})
    t1, t2 = new(rctx, assignee="mac"), new(rctx, runs_on=["gpu"])
    result = Dispatcher(rctx).tick(dry_run=True)
    assert result.spawned == [] and set(result.for_runners) == {t1.id, t2.id}


def test_caps_count_every_runner_together(rctx):
    rctx.settings = replace(rctx.settings, profiles={
        "remote": Profile(command=["true"], max_concurrency=1, runs_on=["r"])})
    a, b = runner(rctx, "a", labels=["r"]), runner(rctx, "b", labels=["r"])
    for _ in range(3):
        new(rctx)
    assert len(runner_work.claim(rctx, a, 2)) == 1
    assert runner_work.claim(rctx, b, 2) == []


def test_lease_log_and_exit_are_the_runners_own_and_fenced(rctx):
    a, b = runner(rctx, "a"), runner(rctx, "b")
    t = new(rctx)
    item = runner_work.claim(rctx, a, 1)[0]
    rid = item["run_id"]
    with pytest.raises(Forbidden):
        runner_work.extend(rctx, b, rid)
    rctx.clock.advance(10)
    assert runner_work.extend(rctx, a, rid)["lease_expires"] == pytest.approx(rctx.now() + LEASE)
    assert runner_work.append_log(rctx, a, rid, b"hello\n")["size"] > 0
    with pytest.raises(TooLarge):
        runner_work.append_log(rctx, a, rid, b"x" * (svc.MAX_LOG_CHUNK + 1))
    with pytest.raises(ValidationError):
        runner_work.report_exit(rctx, a, rid, exit_code=None, timed_out=False, spawn_error=None)
    assert status(rctx, t.id) is Status.RUNNING
    out = runner_work.report_exit(rctx, a, rid, exit_code=3, timed_out=False, spawn_error=None)
    assert out == {"outcome": "crashed", "settled": True}
    last = runs.list_runs(rctx, BOARD, t.id)[-1]
    assert last.outcome == "crashed" and "worker on runner a exited with code 3" in (last.error or "")
    with pytest.raises(Conflict, match="was ended"):  # a second report of the same end
        runner_work.report_exit(rctx, a, rid, exit_code=3, timed_out=False, spawn_error=None)
    with pytest.raises(Conflict):
        runner_work.extend(rctx, a, rid)


@pytest.mark.parametrize(("rc", "timed_out", "spawn_error", "outcome"), [
    (0, False, None, "protocol_violation"), (75, False, None, "rate_limited"),
    (-9, True, None, "timed_out"), (None, False, "command not found: 'x'", "spawn_failed")])
def test_exit_reports_are_classified_as_local_ones(rctx, rc, timed_out, spawn_error, outcome):
    token = runner(rctx, "a")
    new(rctx)
    rid = runner_work.claim(rctx, token, 1)[0]["run_id"]
    got = runner_work.report_exit(rctx, token, rid, exit_code=rc, timed_out=timed_out, spawn_error=spawn_error)
    assert got["outcome"] == outcome


def test_a_worker_that_completed_itself_settles_its_exit_and_its_last_log(rctx):
    token = runner(rctx, "a")
    t = new(rctx)
    item = runner_work.claim(rctx, token, 1)[0]
    worker = Actor("remote", worker_task=t.id, run_id=item["run_id"], run_token=item["run_token"])
    complete_verb(rctx, BOARD, [t.id], actor=worker, summary="done")
    runner_work.append_log(rctx, token, item["run_id"], b"bye\n")
    assert runner_work.report_exit(rctx, token, item["run_id"], exit_code=0, timed_out=False,
                                   spawn_error=None) == {"outcome": "completed", "settled": True}
    assert status(rctx, t.id) is Status.DONE


def test_a_lost_runner_is_reclaimed_after_its_lease_and_its_late_reports_refused(rctx):
    token = runner(rctx, "a")
    t = new(rctx)
    item = runner_work.claim(rctx, token, 1)[0]
    rctx.clock.advance(LEASE + 1)
    health.record_dispatcher_tick(rctx, {})
    Dispatcher(rctx).tick()
    last = runs.list_runs(rctx, BOARD, t.id)[-1]
    assert last.outcome == "runner_lost" and "runner a was lost" in (last.error or "")
    task = tasks.show(rctx, BOARD, t.id).task
    assert task.status is Status.READY and task.consecutive_failures == 1  # counted like a crash
    for call in (lambda: runner_work.extend(rctx, token, item["run_id"]),
                 lambda: runner_work.append_log(rctx, token, item["run_id"], b"late"),
                 lambda: runner_work.report_exit(rctx, token, item["run_id"], exit_code=0,
                                                 timed_out=False, spawn_error=None)):
        with pytest.raises(Conflict):
            call()
    worker = Actor("remote", worker_task=t.id, run_id=item["run_id"], run_token=item["run_token"])
    with pytest.raises(Forbidden):
        complete_verb(rctx, BOARD, [t.id], actor=worker, summary="late")
    assert tasks.show(rctx, BOARD, t.id).task.status is Status.READY


def test_revoking_a_runner_ends_its_attempts(rctx):
    token = runner(rctx, "a")
    t = new(rctx)
    runner_work.claim(rctx, token, 1)
    out = svc.revoke(rctx, "a", actor=USER)
    assert out["ended"] == [t.id] and out["runner"]["revoked"]
    assert status(rctx, t.id) is Status.READY
    assert runs.list_runs(rctx, BOARD, t.id)[-1].outcome == "reclaimed"
    with pytest.raises(Unauthorized):
        svc.register(rctx, token, labels=[], profiles=["remote"], capacity=1, version=None, host=None)


def test_why_names_the_missing_runner(rctx):
    rctx.settings = replace(rctx.settings, profiles={
        "mac": Profile(command=["true"], runs_on=["macos"])})
    t = new(rctx, assignee="mac")
    assert why.explain_task(rctx, tasks.show(rctx, BOARD, t.id).task) == {
        "kind": "no_runner", "text": "no runner runs mac with labels macos: see `kanban runners list`"}
    runner(rctx, "mac-1", profiles=["mac"], labels=["macos"])
    assert why.explain_task(rctx, tasks.show(rctx, BOARD, t.id).task) is None
    rctx.clock.advance(svc.ONLINE_SECONDS + 1)
    text = why.explain_task(rctx, tasks.show(rctx, BOARD, t.id).task)["text"]
    assert text.startswith("no connected runner runs mac with labels macos (runner mac-1 last seen")
