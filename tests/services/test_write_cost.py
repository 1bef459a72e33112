"""No write whose cost grows with the board.

Cost is counted, not timed: SQLite's virtual machine instructions spent by one operation (its
progress handler), on a board of N waiting tasks against one of 10 N. An operation that looks at
what it touches costs the same on both; one that sweeps the board costs about ten times more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from agentkanban.config import load_settings
from agentkanban.dispatch import Dispatcher
from agentkanban.services import (
    Actor,
    Ctx,
    bulk,
    changes,
    links,
    open_ctx,
    runs,
    tasks,
    transitions,
)
from agentkanban.store import engine as store_engine

from .helpers import BOARD

STEP = 50  # instructions per progress callback


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # the counter is SQLite's; behaviour is tested on both elsewhere
    return f"sqlite:///{tmp_path / 'kanban.db'}"


class Counter:
    def __init__(self, ctx: Ctx) -> None:
        self.n = 0
        self.on = False
        event.listen(ctx.store.engine.pool, "checkout", self._checkout)
        ctx.store.engine.dispose()  # connections opened from now on carry the handler

    def _checkout(self, dbapi_conn: Any, _rec: Any, _proxy: Any) -> None:
        dbapi_conn.set_progress_handler(self._tick, STEP)

    def _tick(self) -> int:
        if self.on:
            self.n += 1
        return 0

    def measure(self, fn: Callable[[], Any]) -> int:
        self.n, self.on = 0, True
        try:
            fn()
        finally:
            self.on = False
        return self.n


def _board(tmp_path: Path, clock: Any, waiting: int, name: str) -> tuple[Ctx, dict[str, str]]:
    """``waiting`` todo tasks, ten under each unfinished root, plus the tasks the operations use."""
    settings = load_settings({"KANBAN_HOME": str(tmp_path / name),
                              "KANBAN_DATABASE_URL": f"sqlite:///{tmp_path / name / 'k.db'}"})
    ctx = open_ctx(settings, clock=clock)
    user = Actor("user")
    for i in range(waiting):
        if i % 10 == 0:
            root = tasks.create(ctx, BOARD, title=f"root{i}", actor=user, triage=True).task.id
        tasks.create(ctx, BOARD, title=f"w{i}", actor=user, parents=[root])
    ids = {k: tasks.create(ctx, BOARD, title=k, actor=user, assignee="coder").task.id
           for k in ("done1", "done2", "claim", "patch", "bulk1", "bulk2", "lparent", "lchild",
                     "blocked")}
    transitions.set_status(ctx, BOARD, ids["lchild"], "todo", actor=user)
    transitions.block(ctx, BOARD, ids["blocked"], actor=user, reason="r")
    ids["root"] = root
    return ctx, ids


def _operations(ctx: Ctx, ids: dict[str, str]) -> dict[str, Callable[[], Any]]:
    user = Actor("user")
    dispatcher = Dispatcher(ctx)
    dispatcher.tick()  # the first pass also takes planner statistics and sweeps workspaces
    return {
        "complete": lambda: transitions.complete(ctx, BOARD, ids["done1"], actor=user, summary="s"),
        "create with a parent": lambda: tasks.create(ctx, BOARD, title="new", actor=user,
                                                     parents=[ids["root"]]),
        "create": lambda: tasks.create(ctx, BOARD, title="new", actor=user),
        "claim": lambda: runs.claim(ctx, BOARD, ids["claim"], profile="coder", lock="t:1", ttl=60),
        "update status": lambda: changes.update(ctx, BOARD, ids["patch"],
                                                         changes.Update(status="blocked"), actor=user),
        "link": lambda: links.link(ctx, BOARD, ids["lparent"], ids["lchild"]),
        "unlink": lambda: links.unlink(ctx, BOARD, ids["lparent"], ids["lchild"]),
        "archive": lambda: transitions.archive(ctx, BOARD, ids["done2"], actor=user),
        "unblock": lambda: transitions.unblock(ctx, BOARD, ids["blocked"], actor=user),
        "bulk": lambda: bulk.apply(ctx, BOARD, [ids["bulk1"], ids["bulk2"]],
                                   bulk.Change(status="done"), actor=user),
        "idle dispatcher pass": dispatcher.tick,
    }


@pytest.fixture
def two_boards(tmp_path: Path, clock: Any) -> Iterator[tuple[dict[str, int], dict[str, int]]]:
    out = []
    for waiting, name in ((60, "small"), (600, "big")):
        ctx, ids = _board(tmp_path, clock, waiting, name)
        counter = Counter(ctx)
        out.append({op: counter.measure(fn) for op, fn in _operations(ctx, ids).items()})
    yield out[0], out[1]
    store_engine.close_all()


def test_no_write_grows_with_the_waiting_tasks(two_boards: tuple[dict[str, int], dict[str, int]]) -> None:
    small, big = two_boards
    grown = {op: (small[op], big[op]) for op in small if big[op] > 1.5 * small[op] + 20}
    assert not grown, f"cost (x{STEP} instructions) at 60 -> 600 waiting tasks: {grown}"
    assert all(n > 0 for n in small.values())  # the counter counts
