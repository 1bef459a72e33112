"""kanban graph: ancestors above the task, descendants indented below it, each with its status."""

from __future__ import annotations


def _create(kanban, *args: str) -> str:
    r = kanban("create", *args, "--json")
    assert r.code == 0, r.err
    return str(r.json()["task"]["id"])


def test_graph_prints_the_tree(kanban) -> None:
    top = _create(kanban, "top", "--assignee", "coder")
    assert kanban("complete", top).code == 0
    mid = _create(kanban, "mid", "--parent", top, "--assignee", "coder")
    task = _create(kanban, "the task", "--parent", mid)
    kid_a = _create(kanban, "kid a", "--parent", task)
    kid_b = _create(kanban, "kid b", "--parent", task)
    both = _create(kanban, "both kids' child", "--parent", kid_a, "--parent", kid_b)
    r = kanban("graph", task[:8])
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        f"up 2  {top}  done   top  @coder",
        f"up 1  {mid}  ready  mid  @coder",
        f"      {task}  todo   the task  <- this task",
        f"      ├─ {kid_a}  todo   kid a",
        f"      │  └─ {both}  todo   both kids' child",
        f"      └─ {kid_b}  todo   kid b",
        f"         └─ {both}  (shown above)",
    ]
    short = kanban("graph", task, "--depth", "1").out.splitlines()
    assert short[0].startswith(f"up 1  {mid}") and short[-1] == "more lies beyond: raise --depth or --limit"
    assert not any(both in line for line in short)


def test_graph_json_and_refusals(kanban) -> None:
    task = _create(kanban, "alone")
    view = kanban("graph", task, "--json").json()
    assert view == {"root": task, "truncated": False, "edges": [],
                    "nodes": [{"id": task, "title": "alone", "status": "ready", "assignee": None,
                               "board": "default", "depth": 0}]}
    assert kanban("graph", task).out == f"{task}  ready  alone  <- this task\n"
    missing = kanban("graph", "t_ffffffffff")
    assert missing.code == 1 and missing.err.startswith("error:")
    bad = kanban("graph", task, "--depth", "0")
    assert bad.code == 2 and "depth must be from 1 to 10" in bad.err
