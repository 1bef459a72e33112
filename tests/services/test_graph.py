"""The dependency view: ancestors and descendants level by level, depths, edges, truncation."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from agentkanban.errors import NotFound, ValidationError
from agentkanban.services import Actor, boards, graph, links, tasks

from .helpers import BOARD

USER = Actor("user")


def _task(ctx, title: str, *parents: str) -> str:
    return tasks.create(ctx, BOARD, title=title, actor=USER, assignee="coder",
                        parents=list(parents)).task.id


def _depths(view) -> dict[str, int]:
    return {n["title"]: n["depth"] for n in view["nodes"]}


def _edges(view, names: dict[str, str]) -> set[tuple[str, str]]:
    return {(names[e["parent"]], names[e["child"]]) for e in view["edges"]}


def test_a_diamond_from_each_end_and_the_middle(ctx) -> None:
    a = _task(ctx, "a")
    b, c = _task(ctx, "b", a), _task(ctx, "c", a)
    d = _task(ctx, "d", b, c)
    names = {a: "a", b: "b", c: "c", d: "d"}
    diamond = {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}

    up = graph.graph(ctx, BOARD, d)
    assert up["root"] == d and not up["truncated"]
    assert _depths(up) == {"a": -2, "b": -1, "c": -1, "d": 0}
    assert _edges(up, names) == diamond
    assert [n["depth"] for n in up["nodes"]] == sorted(n["depth"] for n in up["nodes"])
    node = next(n for n in up["nodes"] if n["id"] == b)
    assert node == {"id": b, "title": "b", "status": "todo", "assignee": "coder", "board": BOARD,
                    "depth": -1}

    down = graph.graph(ctx, BOARD, a)
    assert _depths(down) == {"a": 0, "b": 1, "c": 1, "d": 2}
    assert _edges(down, names) == diamond and not down["truncated"]
    assert next(n for n in down["nodes"] if n["id"] == a)["status"] == "ready"

    middle = graph.graph(ctx, BOARD, b[:8])  # a prefix resolves like every task route
    assert middle["root"] == b
    assert _depths(middle) == {"a": -1, "b": 0, "d": 1}  # the sibling c is neither
    assert _edges(middle, names) == {("a", "b"), ("b", "d")}


def test_a_chain_stops_at_depth_and_says_so(ctx) -> None:
    ids = [_task(ctx, "t0")]
    for i in range(1, 7):
        ids.append(_task(ctx, f"t{i}", ids[-1]))
    names = {tid: f"t{i}" for i, tid in enumerate(ids)}
    view = graph.graph(ctx, BOARD, ids[3], depth=2)
    assert _depths(view) == {"t1": -2, "t2": -1, "t3": 0, "t4": 1, "t5": 2}
    assert _edges(view, names) == {("t1", "t2"), ("t2", "t3"), ("t3", "t4"), ("t4", "t5")}
    assert view["truncated"]  # t0 and t6 lie beyond
    whole = graph.graph(ctx, BOARD, ids[3], depth=3)
    assert len(whole["nodes"]) == 7 and len(whole["edges"]) == 6 and not whole["truncated"]
    only_up = graph.graph(ctx, BOARD, ids[6], depth=10)
    assert _depths(only_up)["t0"] == -6 and not only_up["truncated"]


def test_a_shortcut_link_is_drawn_at_the_shortest_depth(ctx) -> None:
    a = _task(ctx, "a")
    b = _task(ctx, "b", a)
    c = _task(ctx, "c", b)
    links.link(ctx, BOARD, a, c)
    view = graph.graph(ctx, BOARD, c, depth=1)
    assert _depths(view) == {"a": -1, "b": -1, "c": 0}
    # The link a -> b is between two drawn tasks: found by the look one level further.
    assert _edges(view, {a: "a", b: "b", c: "c"}) == {("a", "b"), ("b", "c"), ("a", "c")}
    assert not view["truncated"]


def test_limit_truncates_nearest_levels_first(ctx) -> None:
    parent = _task(ctx, "parent")
    root = _task(ctx, "root", parent)
    kids = [_task(ctx, f"kid{i}", root) for i in range(5)]
    grandkid = _task(ctx, "grandkid", kids[0])
    view = graph.graph(ctx, BOARD, root, limit=4)
    assert view["truncated"] and len(view["nodes"]) == 4
    drawn = {n["id"] for n in view["nodes"]}
    assert parent in drawn and root in drawn and grandkid not in drawn
    assert all(e["parent"] in drawn and e["child"] in drawn for e in view["edges"])
    assert len(view["edges"]) == 3
    everything = graph.graph(ctx, BOARD, root, limit=8)
    assert len(everything["nodes"]) == 8 and not everything["truncated"]
    assert graph.graph(ctx, BOARD, root, limit=1)["nodes"][0]["id"] == root


def test_cost_follows_what_is_drawn_not_the_board(ctx) -> None:
    a = _task(ctx, "a")
    bs = [_task(ctx, f"b{i}", a) for i in range(3)]
    for i in range(60):  # a crowd of other tasks, linked and not
        _task(ctx, f"other{i}", *([a] if i % 3 == 0 else [bs[0]] if i % 3 == 1 else []))
    c = _task(ctx, "c", *bs)
    statements: list[tuple[str, object]] = []

    def _count(conn, cursor, statement, parameters, *args):  # observe, do not alter
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    lone = _task(ctx, "lone")
    event.listen(ctx.store.engine, "before_cursor_execute", _count)
    try:
        alone = graph.graph(ctx, BOARD, lone, depth=10)
        statements_alone = len(statements)
        view = graph.graph(ctx, BOARD, c, depth=2)
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", _count)
    assert [n["title"] for n in alone["nodes"]] == ["lone"]
    assert statements_alone <= 3  # the task, then one statement each way finds nothing
    assert _depths(view) == {"a": -2, "b0": -1, "b1": -1, "b2": -1, "c": 0}
    assert len(view["edges"]) == 6 and not view["truncated"]
    if ctx.store.engine.dialect.name == "sqlite":
        # Each level reads the links by their index and each task by its id: no statement walks
        # the board's tasks (SQLite would rather, given the chance; see store.links._step).
        with ctx.store.engine.connect() as conn:
            for sql, params in statements:
                plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
                assert not any(p.startswith("SCAN") or "(board=?" in p for p in plan), (sql, plan)


def test_unknown_task_and_bad_bounds(ctx) -> None:
    tid = _task(ctx, "t")
    with pytest.raises(NotFound):
        graph.graph(ctx, BOARD, "t_ffffffffff")
    with pytest.raises(NotFound):
        graph.graph(ctx, BOARD, "fffffff")  # a prefix of no task
    boards.create(ctx, "elsewhere")
    away = tasks.create(ctx, "elsewhere", title="away", actor=USER).task.id
    with pytest.raises(NotFound):
        graph.graph(ctx, BOARD, away)  # a task of another board
    for bad in ({"depth": 0}, {"depth": 11}, {"limit": 0}, {"limit": 501}):
        with pytest.raises(ValidationError):
            graph.graph(ctx, BOARD, tid, **bad)
