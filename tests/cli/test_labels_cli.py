"""`kanban label`, `kanban labels`, `kanban due` and the label and due-date options of create/list."""

from __future__ import annotations


def _create(kanban, title: str, *args: str) -> str:
    r = kanban("create", title, "--json", *args)
    assert r.code == 0, r.err
    return r.json()["task"]["id"]


def test_labels_from_create_to_list(kanban) -> None:
    a = _create(kanban, "a", "--label", "bug", "--label", "ui", "--due", "2030-01-31")
    b = _create(kanban, "b")
    task = kanban("show", a, "--json").json()["task"]
    assert task["labels"] == ["bug", "ui"] and task["due_at"] == 1896134399
    r = kanban("label", "add", "backend", a, b)
    assert r.code == 0, r.err
    assert "labels: backend" in r.out.splitlines()[1]
    r = kanban("label", "remove", "ui", a, "--json")
    assert r.json()["tasks"][0]["labels"] == ["backend", "bug"]
    listed = kanban("list", "--label", "bug", "--json").json()["tasks"]
    assert [t["id"] for t in listed] == [a]
    listed = kanban("list", "--label", "backend", "--sort", "due", "--json").json()["tasks"]
    assert [t["id"] for t in listed] == [a, b]
    human = kanban("list", env={"COLUMNS": "200"}).out
    assert "labels" in human and "2030-01-31" in human
    r = kanban("label", "set", b)
    assert r.code == 0 and "labels: -" in r.out
    r = kanban("label", "color", "bug", "#0a0")
    assert r.out.strip() == "bug: #00aa00"
    got = {x["name"]: x for x in kanban("labels", "--json").json()["labels"]}
    assert got["bug"] == {"name": "bug", "color": "#00aa00", "custom": True, "count": 1}
    assert got["backend"]["custom"] is False and got["backend"]["count"] == 1


def test_due_command_and_filters(kanban) -> None:
    a = _create(kanban, "a")
    r = kanban("due", a, "2001-01-01T10:00")
    assert r.code == 0 and r.out.strip().endswith("due: 2001-01-01 10:00 UTC")
    assert [t["id"] for t in kanban("list", "--due", "overdue", "--json").json()["tasks"]] == [a]
    assert [t["id"] for t in kanban("list", "--attention", "--json").json()["tasks"]] == [a]
    assert "(overdue)" in kanban("list", env={"COLUMNS": "200"}).out
    assert "Labels: -   Due: 2001-01-01 10:00 UTC (overdue)" in kanban("show", a).out
    r = kanban("due", a, "none")
    assert r.out.strip().endswith("due: none")
    assert kanban("list", "--due", "overdue", "--json").json()["tasks"] == []


def test_bad_labels_and_dates_are_one_line_errors_and_change_nothing(kanban) -> None:
    a = _create(kanban, "a", "--label", "keep")
    for args, first in [
        (("create", "x", "--label", "a,b"), "error: label 'a,b' contains a comma; give one label at a time"),
        (("create", "x", "--label", "x" * 41), "error: label 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... is too long (41 characters, at most 40)"),
        (("create", "x", "--due", "soon"), "error: bad due date 'soon': use a date (2026-12-31, due at the end of that day, UTC), a time (2026-12-31T17:00, UTC unless it says +02:00), a Unix time in seconds, or 'none'"),
        (("label", "add", "", a), "error: a label cannot be empty"),
        (("label", "color", "keep", "blue"), "error: bad colour 'blue': use #rrggbb (e.g. #3b82f6), or 'auto'"),
        (("due", a, "1999-01-01"), "error: bad due date '1999-01-01': it must fall between the years 2000 and 9999"),
        (("list", "--due", "later"), "error: bad due date 'later'"),
    ]:
        r = kanban(*args)
        assert r.code == 2, (args, r.out, r.err)
        assert r.err.splitlines()[0].startswith(first), r.err
    tasks = kanban("list", "--json").json()["tasks"]
    assert len(tasks) == 1 and tasks[0]["labels"] == ["keep"] and tasks[0]["due_at"] is None
