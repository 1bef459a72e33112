"""GET /tasks/{id}/graph: the dependency view over HTTP, at both mount points."""

from __future__ import annotations

from .test_tasks_api import assert_error


def test_graph_route(mounted) -> None:
    def make(title: str, *parents: str) -> str:
        r = mounted.post("/tasks", json={"title": title, "parents": list(parents)})
        return str(r.json()["task"]["id"])

    parent = make("parent")
    task = make("task", parent)
    kids = [make("kid a", task), make("kid b", task)]
    r = mounted.get(f"/tasks/{task[:9]}/graph")
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["root"] == task and view["truncated"] is False
    assert [(n["title"], n["status"], n["depth"]) for n in view["nodes"]] == [
        ("parent", "ready", -1), ("task", "todo", 0), ("kid a", "todo", 1), ("kid b", "todo", 1)]
    assert set(view["nodes"][0]) == {"id", "title", "status", "assignee", "board", "depth"}
    assert sorted((e["parent"], e["child"]) for e in view["edges"]) == sorted(
        [(parent, task), (task, kids[0]), (task, kids[1])])
    small = mounted.get(f"/tasks/{task}/graph", params={"depth": 1, "limit": 2}).json()
    assert len(small["nodes"]) == 2 and small["truncated"] is True


def test_graph_refusals(api) -> None:
    tid = api.post("/tasks", json={"title": "alone"}).json()["task"]["id"]
    assert_error(api.get("/tasks/t_ffffffffff/graph"), 404, "t_ffffffffff")
    for bad in ({"depth": 0}, {"depth": 11}, {"limit": 0}, {"limit": 501}):
        assert api.get(f"/tasks/{tid}/graph", params=bad).status_code == 422, bad
    assert_error(api.get(f"/tasks/{tid}/graph", params={"board": "nope"}), 404, "nope")
