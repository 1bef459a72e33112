"""WS /events against a live server: live batches in id order, resume without loss or repeats."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from agentkanban.services import events as event_svc

from .conftest import make_board, make_task

# Writes from another process go through the same services the CLI and the workers use.
WRITER = """
import sys
from agentkanban.config import load_settings
from agentkanban.services import Actor, open_ctx, tasks
ctx = open_ctx(load_settings())
board, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    tasks.create(ctx, board, title=f"from another process {i}", actor=Actor("cli"))
"""


def write_from_another_process(settings, n: int, board: str = "default") -> None:
    env = {**os.environ, "KANBAN_HOME": str(settings.home), "KANBAN_DATABASE_URL": settings.database_url}
    subprocess.run([sys.executable, "-c", WRITER, board, str(n)], env=env, check=True, timeout=120)


def ws_connect(live, token: str | None, **params: Any):
    query = "&".join(f"{k}={v}" for k, v in {**params, **({"token": token} if token else {})}.items())
    return connect(f"{live.ws_url}/api/events?{query}", open_timeout=30, close_timeout=5)


def receive(ws, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Batches until ``count`` events arrived (or the deadline passed); checks each batch's cursor."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            batch = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        assert set(batch) == {"events", "cursor"} and batch["events"]
        assert batch["cursor"] == batch["events"][-1]["id"]
        got.extend(batch["events"])
    return got


def quiet(ws, seconds: float = 0.5) -> list[dict[str, Any]]:
    """Whatever arrives in ``seconds`` (expected: nothing)."""
    return receive(ws, 1, timeout=seconds)


def assert_in_order(events: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)), ids


def test_same_process_write_arrives(live, ctx, token):
    with ws_connect(live, token, since=event_svc.latest_id(ctx)) as ws:
        resp = httpx.post(f"{live.url}/api/tasks", json={"title": "live"},
                          headers={"authorization": f"Bearer {token}"})
        tid = resp.json()["task"]["id"]
        got = receive(ws, 1)
        assert [(e["kind"], e["task_id"]) for e in got] == [("created", tid)]
        assert set(got[0]) >= {"id", "task_id", "run_id", "kind", "payload", "created_at"}


def test_other_process_writes_arrive_in_order(live, ctx, settings, token):
    with ws_connect(live, token, since=event_svc.latest_id(ctx)) as ws:
        write_from_another_process(settings, 20)
        got = receive(ws, 20, timeout=10)
    assert len(got) == 20 and {e["kind"] for e in got} == {"created"}
    assert_in_order(got)
    assert [e["id"] for e in got] == [e.id for e in event_svc.since(ctx, got[0]["id"] - 1, limit=100)]


def test_resume_with_since_loses_and_repeats_nothing(live, ctx, settings, token):
    for i in range(5):
        make_task(ctx, f"before {i}")
    with ws_connect(live, token, since=0) as ws:
        first = receive(ws, 5)
        assert len(first) == 5 and quiet(ws) == []
    cursor = first[-1]["id"]
    # While nobody listens: writes here and from another process.
    for i in range(3):
        make_task(ctx, f"while away {i}")
    write_from_another_process(settings, 4)
    with ws_connect(live, token, since=cursor) as ws:
        second = receive(ws, 7)
        assert quiet(ws) == []
        make_task(ctx, "after reconnect")
        third = receive(ws, 1)
    everything = first + second + third
    assert_in_order(everything)
    assert [e["id"] for e in everything] == [e.id for e in event_svc.since(ctx, 0, limit=1000)]


def test_a_long_backlog_is_paged_without_gaps(live, ctx, token):
    for i in range(520):
        make_task(ctx, f"t{i}")
    with ws_connect(live, token, since=3) as ws:
        got = receive(ws, 517, timeout=20)
        assert quiet(ws) == []
    assert [e["id"] for e in got] == [e.id for e in event_svc.since(ctx, 3, limit=1000)]


def test_board_filter(live, ctx, token):
    make_board(ctx, "proj")
    since = event_svc.latest_id(ctx)
    with ws_connect(live, token, since=since, board="proj") as proj, \
            ws_connect(live, token, since=since) as default, \
            ws_connect(live, token, since=since, board="*") as every:
        a = make_task(ctx, "on default")
        b = make_task(ctx, "on proj", board="proj")
        assert [e["task_id"] for e in receive(proj, 1)] == [b]
        assert [e["task_id"] for e in receive(default, 1)] == [a]
        assert [e["task_id"] for e in receive(every, 2)] == [a, b]
        assert quiet(proj, 0.3) == [] and quiet(default, 0.3) == []


@pytest.mark.parametrize(("board", "code"), [("nope", 4404), ("Not A Slug", 4400)])
def test_bad_board_closes_with_a_reason(live, token, board, code):
    with ws_connect(live, token, board=board.replace(" ", "%20")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == code


@pytest.mark.parametrize("token_param", [None, "wrong"])
def test_missing_or_wrong_token_closes_1008(live, token_param):
    with ws_connect(live, token_param, since=0) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


def test_many_connections_share_one_reader(live, ctx, token):
    since = event_svc.latest_id(ctx)
    hub = live.app.state.hub
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(ws_connect(live, token, since=since)) for _ in range(40)]
        tid = make_task(ctx, "fan out")
        for ws in conns:
            assert [e["task_id"] for e in receive(ws, 1)] == [tid]
        assert hub.subscribers == 40
    deadline = time.monotonic() + 5
    while hub.subscribers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hub.subscribers == 0


def test_batches_are_text_frames(live, token, ctx):
    """Browsers get the JSON as text, as the reference sends it."""
    with connect(f"{live.ws_url}/api/events?since=0&token={token}") as ws:
        make_task(ctx, "framed")
        frame = ws.recv(timeout=5)
    assert isinstance(frame, str) and json.loads(frame)["events"][0]["kind"] == "created"


def test_event_from_the_kanban_cli(live, token, settings):
    """A write by the real `kanban` command in another process reaches a connected client."""
    env = {**os.environ, "KANBAN_HOME": str(settings.home), "KANBAN_DATABASE_URL": settings.database_url}
    with connect(f"{live.ws_url}/api/events?since=0&token={token}") as ws:
        subprocess.run([sys.executable, "-m", "agentkanban", "create", "typed at a terminal"],
                       env=env, check=True, timeout=60, capture_output=True)
        batch = json.loads(ws.recv(timeout=10))
    [event] = batch["events"]
    assert event["kind"] == "created" and batch["cursor"] == event["id"]


def test_since_is_exclusive_even_when_the_hub_has_not_read_that_far(live, ctx, settings, token):
    """A client that read ``latest_event_id`` (N) before the hub fetched event N, and opens the
    socket with ``since=N``, must never receive N or anything older."""
    with ws_connect(live, token, since=event_svc.latest_id(ctx)) as watcher:
        for _ in range(3):
            write_from_another_process(settings, 1)  # the hub learns of it only when it next looks
            n = event_svc.latest_id(ctx)
            with ws_connect(live, token, since=n) as ws:
                assert [e["id"] for e in quiet(ws, 0.4) if e["id"] <= n] == []
                make_task(ctx, "after")
                assert [e["id"] > n for e in receive(ws, 1)] == [True]
        assert_in_order(receive(watcher, 6))


def test_a_cursor_ahead_of_the_window_never_moves_back(ctx):
    from agentkanban.web.ws import EventHub

    hub = EventHub(ctx)
    hub.ids, hub.items = [4, 5], [{"id": 4, "board": "default"}, {"id": 5, "board": "default"}]
    hub.floor, hub.head = 3, 5
    assert hub.slice(3, None) == (5, hub.items)
    assert hub.slice(9, None) == (9, [])  # not (5, []): id 6..9 must not be sent later
