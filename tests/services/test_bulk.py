"""One change to many tasks in one transaction: the same outcome, rows and events as the
single-task services applied id after id."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from agentkanban.domain.statuses import RUNNING_ONLY_BY_CLAIM, Status, parse_status
from agentkanban.errors import Conflict, KanbanError, ValidationError
from agentkanban.services import Actor, boards, bulk, events, runs, subs, tasks, transitions
from agentkanban.services.common import resolve_id
from agentkanban.store import subs as store_subs
from agentkanban.store import tasks as store_tasks

API = Actor("dashboard")
USER = Actor("user")


# -- the reference: the single-task services, id after id (what the bulk route did before) -----
def one_by_one(ctx, board: str, refs: list[str], c: bulk.Change) -> list[dict[str, Any]]:
    out = []
    for ref in refs:
        entry: dict[str, Any] = {"id": ref, "ok": True}
        try:
            tid = resolve_id(ctx, board, ref)
            entry["id"] = tid
            if c.archive:
                transitions.archive(ctx, board, tid, actor=API)
            elif c.status is not None:
                _apply_status(ctx, board, tid, c)
            if c.assignee is not None:
                tasks.assign(ctx, board, tid, c.assignee or None)
            if c.priority is not None:
                tasks.reprioritize(ctx, board, tid, c.priority)
        except KanbanError as err:
            entry.update(ok=False, error=err.message)
        out.append(entry)
    return out


def _apply_status(ctx, board: str, tid: str, c: bulk.Change) -> None:
    status = parse_status(c.status or "")
    if status is Status.RUNNING:
        raise ValidationError(RUNNING_ONLY_BY_CLAIM)
    if status is Status.DONE:
        transitions.complete(ctx, board, tid, actor=API, result=c.result, summary=c.summary,
                             metadata=c.metadata)
    elif status is Status.BLOCKED:
        transitions.block(ctx, board, tid, actor=API, reason=c.block_reason)
    elif status is Status.ARCHIVED:
        transitions.archive(ctx, board, tid, actor=API)
    elif status is Status.READY and tasks.get(ctx, board, tid).status is Status.BLOCKED:
        transitions.unblock(ctx, board, tid, actor=API)
    else:
        transitions.set_status(ctx, board, tid, status, actor=API)


def as_dicts(outcomes: list[bulk.Outcome]) -> list[dict[str, Any]]:
    return [{"id": o.id, "ok": True} if o.ok else {"id": o.id, "ok": False, "error": o.error}
            for o in outcomes]


# -- a board with every status, dependencies, attempts and subscriptions ------------------------
def build(ctx, board: str) -> dict[str, str]:
    """Title -> id. The same titles and history on every board it is called for."""
    boards.create(ctx, board)
    ids: dict[str, str] = {}

    def mk(title: str, **kw: Any) -> str:
        ids[title] = tasks.create(ctx, board, title=title, actor=USER, **kw).task.id
        return ids[title]

    def claim(tid: str) -> None:
        assert runs.claim(ctx, board, tid, profile="coder", lock="test:1", ttl=900) is not None

    mk("triage", triage=True)
    mk("ready")
    mk("ready-bob", assignee="bob")
    transitions.set_status(ctx, board, mk("todo"), "todo", actor=USER)
    claim(mk("running", assignee="coder"))
    transitions.block(ctx, board, mk("blocked"), actor=USER, reason="r")
    claim(mk("was-running", assignee="coder"))
    transitions.block(ctx, board, ids["was-running"], actor=USER, reason="stuck")
    transitions.complete(ctx, board, mk("done"), actor=USER, summary="s")
    claim(mk("done-claimed", assignee="coder"))
    transitions.complete(ctx, board, ids["done-claimed"], actor=USER, summary="shipped")
    transitions.archive(ctx, board, mk("archived"), actor=USER)
    mk("C", parents=[mk("P")])  # P ready, C todo waiting on P
    mk("G", parents=[ids["C"]])  # G todo waiting on C
    transitions.complete(ctx, board, mk("D"), actor=USER)
    mk("DC", parents=[ids["D"]])  # ready child of a done parent
    mk("MC", parents=[mk("M1"), mk("M2")])  # waits on two parents
    transitions.block(ctx, board, mk("BC", parents=[mk("BP")]), actor=USER)  # blocked, parent open
    for title in ("ready", "running", "P", "blocked", "C"):
        subs.subscribe(ctx, board, ids[title], platform="slack", chat_id="c1")
    subs.subscribe(ctx, board, ids["P"], platform="telegram", chat_id="c2")
    return ids


def snapshot(ctx, board: str, ids: dict[str, str], since: int) -> dict[str, Any]:
    """Everything a bulk change can touch, with ids replaced by titles."""
    title = {v: k for k, v in ids.items()}
    run_names: dict[int, str] = {}
    runs_by = {}
    for name, tid in ids.items():
        rs = runs.list_runs(ctx, board, tid)
        for n, r in enumerate(rs):
            run_names[r.id] = f"{name}#{n}"
        runs_by[name] = [(r.profile, r.status, r.outcome, r.summary, r.metadata, r.started_at,
                          r.ended_at, r.claim_expires, r.error) for r in rs]

    def norm(x: Any) -> Any:
        if isinstance(x, str):
            return re.sub(r"t_[0-9a-f]{8}", lambda m: title.get(m.group(0), m.group(0)), x)
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        if isinstance(x, list):
            return [norm(v) for v in x]
        return x

    evs = events.since(ctx, since, board=board, limit=100_000)
    kind_of = {e.id: e.kind for e in evs}
    with ctx.store.read() as conn:
        deliveries = sorted((title[d.task_id], kind_of.get(d.event_id, "old"), d.platform, d.chat_id,
                             d.status) for d in store_subs.deliveries_for_task(conn) if d.board == board)
        remaining = sorted((title[s.task_id], s.platform) for s in store_subs.for_board(conn, board))
    return {
        "tasks": {title[t.id]: (t.status.value, t.assignee, t.priority, t.result, t.completed_at,
                                t.consecutive_failures, t.last_failure_error,
                                run_names.get(t.current_run_id or -1), t.claim_lock,
                                t.claim_expires, t.worker_pid, t.updated_at)
                  for t in tasks.list_tasks(ctx, board, include_archived=True)},
        "events": _batches_sorted([(title[e.task_id], e.kind, norm(e.payload),
                                    run_names.get(e.run_id or -1)) for e in evs]),
        "runs": runs_by,
        "deliveries": deliveries,
        "subs": remaining,
    }


def _batches_sorted(evs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Promotions (and demotions) written together come in id order; ids are random, so compare
    each such run of events sorted by title."""
    out: list[tuple[Any, ...]] = []
    run: list[tuple[Any, ...]] = []
    for e in [*evs, ("", "", None, None)]:
        if run and (e[1], e[2]) != (run[0][1], run[0][2]):
            out += sorted(run)
            run = []
        if e[1] == "promoted" or (e[1] == "status" and (e[2] or {}).get("reason")):
            run.append(e)
        elif e[1]:
            out.append(e)
    return out


def _named(v: Any, title: dict[str, str], board: str) -> Any:
    """A message with ids and the board's name replaced (random ids order parent lists)."""
    if not isinstance(v, str):
        return v
    v = re.sub(r"t_[0-9a-f]{8}", lambda m: title.get(m.group(0), "?"), v).replace(board, "B")
    head, sep, names = v.partition("not done: ")
    return head + sep + ", ".join(sorted(names.split(", "))) if sep else v


CHANGES = [
    bulk.Change(status="blocked", block_reason="waiting on legal"),
    bulk.Change(status="blocked"),
    bulk.Change(status="ready"),
    bulk.Change(status="todo"),
    bulk.Change(status="triage"),
    bulk.Change(status="done", summary="all done\nsecond line", result="r", metadata={"k": [1]}),
    bulk.Change(status="done"),
    bulk.Change(status="archived"),
    bulk.Change(archive=True, status="todo", priority=3),
    bulk.Change(status="running"),
    bulk.Change(status="bogus", priority=1),
    bulk.Change(status="done", metadata="{not json"),  # type: ignore[arg-type]
    bulk.Change(assignee="alice"),
    bulk.Change(assignee=""),
    bulk.Change(assignee="x" * 200, priority=2),
    bulk.Change(priority=7),
    bulk.Change(status="blocked", assignee="carol", priority=4),
    bulk.Change(status="ready", assignee="bob"),
    bulk.Change(status="todo", assignee=""),
]


def refs_for(rng: random.Random, ids: dict[str, str], picks: list[str]) -> list[str]:
    out = []
    for p in picks:
        if p == "?":
            out.append("t_ffffffff")
        elif p == "prefix":
            out.append(ids["ready"][2:-1])  # unique enough on a small board
        else:
            out.append(ids[p])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_matches_the_single_task_services(ctx, seed: int) -> None:
    a, b = build(ctx, f"one-{seed}"), build(ctx, f"bulk-{seed}")
    titles = sorted(a)
    rng = random.Random(seed)
    for step in range(16):
        change = rng.choice(CHANGES)
        picks = rng.sample(titles, rng.randint(1, len(titles)))
        picks += rng.choices(picks, k=rng.randint(0, 2)) + rng.choice([[], ["?"], ["prefix"]])
        rng.shuffle(picks)
        since = events.latest_id(ctx)
        expected = one_by_one(ctx, f"one-{seed}", refs_for(rng, a, picks), change)
        got = as_dicts(bulk.apply(ctx, f"bulk-{seed}", refs_for(rng, b, picks), change, actor=API))
        title_a = {v: k for k, v in a.items()}
        title_b = {v: k for k, v in b.items()}

        def named(res: list[dict[str, Any]], title: dict[str, str], board: str) -> list[dict[str, Any]]:
            return [{k: _named(v, title, board) for k, v in r.items()} for r in res]

        where = f"step {step}: {change} on {picks}"
        assert named(got, title_b, f"bulk-{seed}") == named(expected, title_a, f"one-{seed}"), where
        assert snapshot(ctx, f"bulk-{seed}", b, since) == snapshot(ctx, f"one-{seed}", a, since), where


def build_random(ctx, board: str, seed: int) -> dict[str, str]:
    """A random dependency graph in random states; the same for the same seed."""
    boards.create(ctx, board)
    rng = random.Random(seed)
    ids: dict[str, str] = {}
    for i in range(30):
        parents = [ids[f"n{j}"] for j in rng.sample(range(i), min(i, rng.choice([0, 0, 1, 2, 3])))]
        ids[f"n{i}"] = tasks.create(ctx, board, title=f"n{i}", actor=USER, parents=parents,
                                    assignee=rng.choice([None, "coder"])).task.id
    for _ in range(40):
        tid = ids[f"n{rng.randrange(30)}"]
        op = rng.choice(["done", "done", "block", "archive", "todo", "triage", "ready", "claim", "sub"])
        try:
            if op == "done":
                transitions.complete(ctx, board, tid, actor=USER)
            elif op == "block":
                transitions.block(ctx, board, tid, actor=USER)
            elif op == "archive":
                transitions.archive(ctx, board, tid, actor=USER)
            elif op == "claim":
                runs.claim(ctx, board, tid, profile="coder", lock="l", ttl=60)
            elif op == "sub":
                subs.subscribe(ctx, board, tid, platform="slack", chat_id="c")
            else:
                transitions.set_status(ctx, board, tid, op, actor=USER)
        except KanbanError:
            pass
    return ids


@pytest.mark.parametrize("seed", [4, 5])
def test_bulk_matches_on_a_random_graph(ctx, seed: int) -> None:
    a, b = build_random(ctx, f"one-{seed}", seed), build_random(ctx, f"bulk-{seed}", seed)
    rng = random.Random(seed)
    for step in range(12):
        change = rng.choice(CHANGES)
        picks = rng.sample(sorted(a), rng.randint(1, 30))
        since = events.latest_id(ctx)
        expected = one_by_one(ctx, f"one-{seed}", [a[p] for p in picks], change)
        got = as_dicts(bulk.apply(ctx, f"bulk-{seed}", [b[p] for p in picks], change, actor=API))
        where = f"step {step}: {change} on {picks}"
        title_a, title_b = {v: k for k, v in a.items()}, {v: k for k, v in b.items()}
        assert [{k: _named(v, title_b, f"bulk-{seed}") for k, v in r.items()} for r in got] == [
            {k: _named(v, title_a, f"one-{seed}") for k, v in r.items()} for r in expected], where
        assert snapshot(ctx, f"bulk-{seed}", b, since) == snapshot(ctx, f"one-{seed}", a, since), where


def test_mixed_ids_each_get_their_own_answer(ctx) -> None:
    ids = build(ctx, "mixed")
    refs = [ids["ready"], "t_ffffffff", ids["done"], "zz", ids["ready-bob"], ids["ready"]]
    out = bulk.apply(ctx, "mixed", refs, bulk.Change(status="blocked", block_reason="why"), actor=API)
    assert [(o.id, o.ok) for o in out] == [
        (ids["ready"], True), ("t_ffffffff", False), (ids["done"], False), ("zz", False),
        (ids["ready-bob"], True), (ids["ready"], False)]
    assert out[1].error == "task t_ffffffff not found on board 'mixed'"
    assert out[2].error == "cannot move a task from 'done' to 'blocked'"
    assert out[3].error == "no task matches 'zz' on board 'mixed'"
    assert out[5].error == f"task {ids['ready']} is already blocked"
    assert tasks.get(ctx, "mixed", ids["ready-bob"]).status is Status.BLOCKED


def test_each_changed_task_gets_one_event_per_change(ctx) -> None:
    ids = build(ctx, "ev")
    since = events.latest_id(ctx)
    heard: list[Any] = []
    ctx.store.add_listener(heard.extend)
    targets = [ids["ready"], ids["ready-bob"], ids["todo"], ids["done"]]
    bulk.apply(ctx, "ev", targets, bulk.Change(status="blocked", assignee="bob", priority=2), actor=API)
    ctx.store.remove_listener(heard.extend)
    written = events.since(ctx, since, board="ev", limit=1000)
    assert heard == written  # published after commit as stored: ids, kinds, payloads
    got = [(e.task_id, e.kind) for e in written]
    assert got == [
        (ids["ready"], "blocked"), (ids["ready"], "assigned"), (ids["ready"], "reprioritized"),
        (ids["ready-bob"], "blocked"), (ids["ready-bob"], "reprioritized"),  # already bob's
        (ids["todo"], "blocked"), (ids["todo"], "assigned"), (ids["todo"], "reprioritized"),
    ]  # done -> blocked is refused: nothing for it
    # A blocked event is one people hear about: the subscriber of "ready" is owed it, once.
    with ctx.store.read() as conn:
        owed = store_subs.deliveries_for_task(conn, ids["ready"])
    assert [(d.platform, d.status) for d in owed] == [("slack", "pending")]


def test_refusals_read_like_the_single_task_path(ctx) -> None:
    ids = build(ctx, "msg")
    cases = [
        (bulk.Change(status="done"), "done", lambda t: transitions.complete(ctx, "msg", t, actor=API)),
        (bulk.Change(status="blocked"), "done", lambda t: transitions.block(ctx, "msg", t, actor=API)),
        (bulk.Change(status="archived"), "archived", lambda t: transitions.archive(ctx, "msg", t, actor=API)),
        (bulk.Change(status="ready"), "C", lambda t: transitions.set_status(ctx, "msg", t, "ready", actor=API)),
        (bulk.Change(status="triage"), "running",
         lambda t: transitions.set_status(ctx, "msg", t, "triage", actor=API)),
        (bulk.Change(assignee="bob"), "running", lambda t: tasks.assign(ctx, "msg", t, "bob")),
    ]
    for change, title, single in cases:
        with pytest.raises(Conflict) as err:
            single(ids[title])
        [out] = bulk.apply(ctx, "msg", [ids[title]], change, actor=API)
        assert out.error == err.value.message, title


def test_bulk_never_starts_a_task_and_leaves_running_ones_alone(ctx) -> None:
    ids = build(ctx, "run")
    before = tasks.get(ctx, "run", ids["running"])
    out = bulk.apply(ctx, "run", [ids["ready-bob"], ids["running"]], bulk.Change(status="running"),
                     actor=API)
    assert all("only the dispatcher's claim starts a task" in (o.error or "") for o in out)
    out = bulk.apply(ctx, "run", [ids["running"]], bulk.Change(assignee="bob", priority=9), actor=API)
    assert out[0].error and "is running; reclaim it first" in out[0].error
    assert tasks.get(ctx, "run", ids["running"]) == before
    assert tasks.get(ctx, "run", ids["ready-bob"]).status is Status.READY


def test_completing_a_parent_in_bulk_promotes_its_children(ctx) -> None:
    ids = build(ctx, "promo")
    since = events.latest_id(ctx)
    out = bulk.apply(ctx, "promo", [ids["P"], ids["C"]], bulk.Change(status="done"), actor=API)
    assert all(o.ok for o in out)
    kinds = [(e.task_id, e.kind) for e in events.since(ctx, since, board="promo", limit=100)]
    assert kinds == [(ids["P"], "completed"), (ids["C"], "promoted"), (ids["C"], "completed"),
                     (ids["G"], "promoted")]
    assert tasks.get(ctx, "promo", ids["G"]).status is Status.READY


def test_compare_and_set_moves_only_rows_in_the_expected_status(ctx) -> None:
    ids = build(ctx, "cas")
    with ctx.store.write() as tx:
        changed = store_tasks.cas_many(tx.conn, [ids["ready"], ids["running"]], "ready",
                                       {"status": "blocked", "updated_at": 1.0})
    assert changed == {ids["ready"]}
    assert tasks.get(ctx, "cas", ids["running"]).status is Status.RUNNING


def test_a_worker_cannot_bulk(ctx) -> None:
    build(ctx, "w")
    from agentkanban.errors import Forbidden

    with pytest.raises(Forbidden):
        bulk.apply(ctx, "w", ["t_00000000"], bulk.Change(priority=1), actor=Actor("w", worker_task="t_1"))
