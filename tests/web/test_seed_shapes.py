"""Nothing the seed's API defines changed shape: every key the seed answers is there, with the seed's
JSON type (timestamps are whole epoch seconds), at both mount points. Keys we add are listed in
docs/api.md ("Beyond the seed")."""

from __future__ import annotations

from typing import Any

from agentkanban.services import Actor, comments, runs, transitions

from .conftest import make_task

INT, STR, NULL, DICT, LIST, BOOL = int, str, type(None), dict, list, bool
OPT_INT, OPT_STR = (INT, NULL), (STR, NULL)

# The seed's Task fields (asdict of its dataclass) that our tasks carry, with their JSON types.
SEED_TASK = {
    "id": STR, "title": STR, "body": OPT_STR, "assignee": OPT_STR, "status": STR, "priority": INT,
    "created_by": OPT_STR, "created_at": INT, "started_at": OPT_INT, "completed_at": OPT_INT,
    "workspace_kind": STR, "workspace_path": OPT_STR, "claim_lock": OPT_STR,
    "claim_expires": OPT_INT, "tenant": OPT_STR, "result": OPT_STR, "idempotency_key": OPT_STR,
    "consecutive_failures": INT, "worker_pid": OPT_INT, "last_failure_error": OPT_STR,
    "max_runtime_seconds": OPT_INT, "last_heartbeat_at": OPT_INT, "current_run_id": OPT_INT,
    "skills": LIST, "age": DICT,
}
SEED_AGE = {"created_age_seconds": INT, "started_age_seconds": OPT_INT,
            "time_to_complete_seconds": OPT_INT}
SEED_CARD = {**SEED_TASK, "link_counts": DICT, "comment_count": INT, "progress": (DICT, NULL)}
SEED_EVENT = {"id": INT, "task_id": STR, "kind": STR, "payload": (DICT, NULL), "created_at": INT,
              "run_id": OPT_INT}
SEED_COMMENT = {"id": INT, "task_id": STR, "author": STR, "body": STR, "created_at": INT}
SEED_RUN = {"id": INT, "task_id": STR, "profile": OPT_STR, "step_key": OPT_STR, "status": STR,
            "claim_lock": OPT_STR, "claim_expires": OPT_INT, "worker_pid": OPT_INT,
            "max_runtime_seconds": OPT_INT, "last_heartbeat_at": OPT_INT, "started_at": INT,
            "ended_at": OPT_INT, "outcome": OPT_STR, "summary": OPT_STR, "metadata": (DICT, NULL),
            "error": OPT_STR}
SEED_COLUMNS = ["triage", "todo", "ready", "running", "blocked", "done"]


def conforms(obj: dict[str, Any], shape: dict[str, Any], what: str) -> None:
    missing = sorted(set(shape) - set(obj))
    assert not missing, f"{what} lacks the seed's {missing}"
    for key, types in shape.items():
        # bool is an int in Python; the seed never answers a bool where it answers a number
        assert isinstance(obj[key], types) and not (isinstance(obj[key], bool) and types is not BOOL), (
            f"{what}.{key} = {obj[key]!r} is not of the seed's type {types}")


def _busy_task(ctx, clock) -> str:
    """A task with a comment, a finished attempt with metadata, a child, and sub-second times."""
    clock.advance(0.37)
    tid = make_task(ctx, "parent", assignee="coder")
    make_task(ctx, "child", parents=[tid])
    comments.add(ctx, "default", tid, "looks good", actor=Actor("alice"))
    claim = runs.claim(ctx, "default", tid, profile="coder", lock="test", ttl=60)
    assert claim is not None
    clock.advance(1.61)
    worker = Actor("coder", worker_task=tid, run_id=claim.run_id, run_token=claim.token)
    transitions.complete(ctx, "default", tid, actor=worker, summary="done", metadata={"n": 1})
    return tid


def test_board_task_detail_and_stats_keep_the_seed_shape(mounted, ctx, clock) -> None:
    tid = _busy_task(ctx, clock)
    board = mounted.get("/board").json()
    conforms(board, {"columns": LIST, "tenants": LIST, "assignees": LIST, "latest_event_id": INT,
                     "now": INT}, "board")
    # The seed's six, in the seed's order; columns added since (0.19's scheduled) come between.
    assert [c["name"] for c in board["columns"] if c["name"] in SEED_COLUMNS] == SEED_COLUMNS
    cards = [t for c in board["columns"] for t in c["tasks"]]
    assert len(cards) == 2
    for card in cards:
        conforms(card, SEED_CARD, "card")
        conforms(card["age"], SEED_AGE, "card.age")
    done = next(c for c in cards if c["id"] == tid)
    assert done["age"]["time_to_complete_seconds"] == 1  # 1.61 s from start to finish, truncated
    assert done["progress"] == {"done": 0, "total": 1}

    detail = mounted.get(f"/tasks/{tid}").json()
    assert set(detail) >= {"task", "comments", "events", "links", "runs"}
    conforms(detail["task"], SEED_TASK, "task")
    assert detail["links"] == {"parents": [], "children": [detail["links"]["children"][0]]}
    for c in detail["comments"]:
        conforms(c, SEED_COMMENT, "comment")
    for e in detail["events"]:
        conforms(e, SEED_EVENT, "event")
    assert [r["outcome"] for r in detail["runs"]] == ["completed"]
    conforms(detail["runs"][0], SEED_RUN, "run")
    assert detail["runs"][0]["metadata"] == {"n": 1}

    stats = mounted.get("/stats").json()
    conforms(stats, {"by_status": DICT, "by_assignee": DICT, "now": INT,
                     "oldest_ready_age_seconds": OPT_INT}, "stats")
    assert stats["by_status"] == {"ready": 1, "done": 1}  # the child was promoted; no zero rows


def test_writes_answer_the_seed_shape(mounted) -> None:
    made = mounted.post("/tasks", json={"title": "new"}).json()
    conforms(made["task"], SEED_TASK, "created task")
    tid = made["task"]["id"]
    patched = mounted.patch(f"/tasks/{tid}", json={"priority": 3}).json()
    conforms(patched["task"], SEED_TASK, "patched task")
    assert mounted.post(f"/tasks/{tid}/comments", json={"body": "x"}).json() == {"ok": True}
    other = mounted.post("/tasks", json={"title": "other"}).json()["task"]["id"]
    assert mounted.post("/links", json={"parent_id": tid, "child_id": other}).json() == {"ok": True}
    assert mounted.delete("/links", params={"parent_id": tid, "child_id": other}).json() == {"ok": True}


def test_empty_board_stats_list_no_statuses(mounted) -> None:
    stats = mounted.get("/stats").json()
    assert stats["by_status"] == {} and stats["by_assignee"] == {}
    assert stats["oldest_ready_age_seconds"] is None and isinstance(stats["now"], int)


def test_unknown_tasks_in_parents_and_links_are_400(mounted) -> None:
    tid = mounted.post("/tasks", json={"title": "real"}).json()["task"]["id"]
    before = mounted.get("/board").json()["latest_event_id"]
    for resp in (mounted.post("/tasks", json={"title": "x", "parents": ["t_00000000"]}),
                 mounted.post("/links", json={"parent_id": tid, "child_id": "t_00000000"}),
                 mounted.post("/links", json={"parent_id": "t_00000000", "child_id": tid})):
        assert resp.status_code == 400 and "unknown" in resp.json()["detail"]
    assert mounted.get("/board").json()["latest_event_id"] == before  # nothing changed
    assert mounted.delete("/links", params={"parent_id": tid, "child_id": "t_00000000"}).json() == {
        "ok": False}
