"""PostgreSQL writers run side by side, yet a reader following the event log by cursor sees every
event exactly once and in id order (no event id is ever committed behind the cursor)."""

from __future__ import annotations

import threading
import time

import pytest

from agentkanban.config import load_settings
from agentkanban.services import Actor, boards, bulk, comments, events, open_ctx, tasks
from agentkanban.store import engine as store_engine

WRITERS = 16
BOARDS = 4
TARGET_EVENTS = 50_000
BATCH = 10  # tasks each writer creates per round, then reprioritises in bulk


def _writer(ctx, board: str, me: Actor, stop: threading.Event, errors: list[str]) -> None:
    try:
        rnd = 0
        while not stop.is_set():
            rnd += 1
            ids = [tasks.create(ctx, board, title=f"{me.name} {rnd}.{i}", actor=me).task.id
                   for i in range(BATCH)]
            for prio in range(1, 8):
                bulk.apply(ctx, board, ids, bulk.Change(priority=prio), actor=me)
            comments.add(ctx, board, ids[0], "done with this round", actor=me)
    except Exception as err:  # reported by the test
        errors.append(repr(err))


@pytest.mark.slow
@pytest.mark.postgres
def test_cursor_reader_sees_each_event_once_in_order(tmp_path, pg_url) -> None:
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(tmp_path), "KANBAN_DATABASE_URL": pg_url}))
    slugs = ["default"] + [f"b{i}" for i in range(1, BOARDS)]
    for slug in slugs[1:]:
        boards.create(ctx, slug)
    stop, errors = threading.Event(), []
    writers = [threading.Thread(target=_writer, daemon=True,
                                args=(ctx, slugs[i % BOARDS], Actor(f"w{i}"), stop, errors))
               for i in range(WRITERS)]
    seen: list[int] = []
    start = cursor = events.latest_id(ctx)
    for w in writers:
        w.start()
    deadline = time.monotonic() + 600
    try:
        while len(seen) < TARGET_EVENTS and time.monotonic() < deadline and not errors:
            batch = events.since(ctx, cursor, limit=1000)
            for e in batch:
                assert e.id > cursor, f"event {e.id} arrived after the cursor passed {cursor}"
                seen.append(e.id)
                cursor = e.id
            if not batch:
                time.sleep(0.005)
    finally:
        stop.set()
        for w in writers:
            w.join(120)
    assert errors == []
    assert len(seen) >= TARGET_EVENTS
    # Drain what the writers committed after the reader stopped, then compare with the table.
    while batch := events.since(ctx, cursor, limit=5000):
        seen += [e.id for e in batch]
        cursor = batch[-1].id
    everything = events.since(ctx, start, limit=10_000_000)
    # Every committed event, each exactly once, in id order: nothing skipped, nothing repeated.
    assert seen == [e.id for e in everything]
    assert {e.board for e in everything} == set(slugs)
    store_engine.close_all()
