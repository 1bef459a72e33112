"""Labels and due dates: rules, filters, bulk changes and events, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentkanban.domain.due import describe
from agentkanban.domain.statuses import Status
from agentkanban.errors import ValidationError
from agentkanban.services import board_page, bulk, changes, events, labels, tasks
from agentkanban.services.due import parse_due, set_due

from .helpers import BOARD, make


def _ids(found) -> set[str]:
    return {t.id for t in found}


def test_create_with_labels_and_due(ctx, user) -> None:
    t = tasks.create(ctx, BOARD, title="t", actor=user, labels=["ui", " bug ", "ui"],
                     due_at="2030-01-31").task
    assert t.labels == ("bug", "ui")
    assert t.due_at == datetime(2030, 1, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    assert t.to_dict()["labels"] == ["bug", "ui"]
    created = events.since(ctx, 0, task_id=t.id)[0]
    assert created.payload["labels"] == ["bug", "ui"]


@pytest.mark.parametrize("bad, message", [
    (["a\x00b"], "label contains a NUL character"),
    (["caf\udce9"], "label is not valid UTF-8"),
    (["x" * 41], "is too long (41 characters, at most 40)"),
    (["a,b"], "contains a comma"),
    ([""], "a label cannot be empty"),
    (["tab\there"], "contains a control character"),
    ([f"l{i}" for i in range(21)], "too many labels (21, at most 20 on a task)"),
    ("bug", "labels must be a list of names"),
])
def test_bad_labels_are_refused_and_change_nothing(ctx, user, bad, message) -> None:
    t = make(ctx, Status.READY, labels=["keep"])
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tasks.create(ctx, BOARD, title="new", actor=user, labels=bad)
    with pytest.raises(ValidationError):
        changes.update(ctx, BOARD, t.id, changes.Update(labels=bad, title="renamed"), actor=user)
    with pytest.raises(ValidationError):
        labels.edit(ctx, BOARD, [t.id], add=bad)
    after = tasks.get(ctx, BOARD, t.id)
    assert after.labels == ("keep",) and after.title == "task"
    assert len(tasks.list_tasks(ctx, BOARD)) == 1


def test_add_remove_and_replace(ctx, user) -> None:
    a = make(ctx, Status.READY, "a", labels=["one"])
    b = make(ctx, Status.TODO, "b")
    got = labels.edit(ctx, BOARD, [a.id, b.id], add=["two", "three"], remove=["one"])
    assert [t.labels for t in got] == [("three", "two"), ("three", "two")]
    t = changes.update(ctx, BOARD, a.id, changes.Update(add_labels=["x"], remove_labels=["two"]),
                       actor=user)
    assert t.labels == ("three", "x")
    t = changes.update(ctx, BOARD, a.id, changes.Update(labels=[]), actor=user)
    assert t.labels == ()
    kinds = [e.kind for e in events.since(ctx, 0, task_id=a.id)]
    assert kinds.count("labeled") == 3
    with pytest.raises(ValidationError, match="say which labels"):
        labels.edit(ctx, BOARD, [a.id])


def test_colors_derived_and_chosen(ctx) -> None:
    make(ctx, Status.READY, labels=["bug", "ui"])
    make(ctx, Status.READY, labels=["bug"])
    got = {x["name"]: x for x in labels.board_labels(ctx, BOARD)}
    assert got["bug"]["count"] == 2 and got["ui"]["count"] == 1
    assert got["bug"]["color"] == labels.derived_color("bug")
    assert got["bug"]["color"].startswith("#") and len(got["bug"]["color"]) == 7
    assert labels.derived_color("bug") == labels.derived_color("BUG")
    out = labels.set_color(ctx, BOARD, "bug", "#F00")
    assert out == {"name": "bug", "color": "#ff0000", "custom": True, "count": 2}
    assert {x["name"]: x["color"] for x in labels.board_labels(ctx, BOARD)}["bug"] == "#ff0000"
    with pytest.raises(ValidationError, match="bad colour 'red'"):
        labels.set_color(ctx, BOARD, "bug", "red")
    labels.set_color(ctx, BOARD, "bug", "auto")
    assert {x["name"]: x["custom"] for x in labels.board_labels(ctx, BOARD)}["bug"] is False


def test_label_filter_matches_whole_names(ctx) -> None:
    bug = make(ctx, Status.READY, "bug", labels=["bug"])
    fix = make(ctx, Status.READY, "fix", labels=["bugfix", "ui"])
    both = make(ctx, Status.TODO, "both", labels=["bug", "ui"])
    odd = make(ctx, Status.TODO, "odd", labels=['100%_"x"'])
    assert _ids(tasks.list_tasks(ctx, BOARD, label=["bug"])) == {bug.id, both.id}
    assert _ids(tasks.list_tasks(ctx, BOARD, label=["bug,ui"])) == {both.id}
    assert _ids(tasks.list_tasks(ctx, BOARD, label=["ui"])) == {fix.id, both.id}
    assert _ids(tasks.list_tasks(ctx, BOARD, label=['100%_"x"'])) == {odd.id}
    page = board_page.page(ctx, BOARD, label=["ui"])
    shown = {t["id"] for c in page["columns"] for t in c["tasks"]}
    assert shown == {fix.id, both.id}
    assert sum(c["count"] for c in page["columns"]) == 2
    assert {x["name"] for x in page["labels"]} == {"bug", "bugfix", "ui", '100%_"x"'}


def test_parse_due_forms() -> None:
    assert parse_due("2030-05-01T10:00") == datetime(2030, 5, 1, 10, tzinfo=UTC).timestamp()
    assert parse_due("2030-05-01T10:00+02:00") == datetime(2030, 5, 1, 8, tzinfo=UTC).timestamp()
    assert parse_due("2030-05-01T10:00Z") == datetime(2030, 5, 1, 10, tzinfo=UTC).timestamp()
    assert parse_due(1_900_000_000) == 1_900_000_000.0
    assert parse_due("none") is None and parse_due("") is None and parse_due(None) is None
    assert describe(parse_due("2030-05-01")) == "2030-05-01"
    assert describe(parse_due("2030-05-01T10:00")) == "2030-05-01 10:00 UTC"


@pytest.mark.parametrize("bad, message", [
    ("tomorrow", "bad due date 'tomorrow'"),
    ("2030-02-30", "bad due date"),
    ("1999-12-31", "between the years 2000 and 9999"),
    (float("nan"), "between the years 2000 and 9999"),
    ("2030\x00-01-01", "due date contains a NUL character"),
    ("9" * 100, "due date is too long"),
    (True, "bad due date True"),
])
def test_bad_due_dates_are_refused_and_change_nothing(ctx, user, bad, message) -> None:
    t = make(ctx, Status.READY)
    with pytest.raises(ValidationError, match=message):
        set_due(ctx, BOARD, t.id, bad)
    with pytest.raises(ValidationError, match=message):
        changes.update(ctx, BOARD, t.id, changes.Update(title="x", due_at=bad, set_due=True),
                       actor=user)
    with pytest.raises(ValidationError, match=message):
        bulk.apply(ctx, BOARD, [t.id], bulk.Change(priority=3, due_at=bad, set_due=True), actor=user)
    after = tasks.get(ctx, BOARD, t.id)
    assert (after.due_at, after.title, after.priority) == (None, "task", 0)


def test_due_sort_and_filters(ctx, clock, user) -> None:
    now = clock()
    late = make(ctx, Status.READY, "late", due_at=now + 100)
    soon = make(ctx, Status.TODO, "soon", due_at=now + 50)
    done = make(ctx, Status.DONE, "done", due_at=now + 10)
    none = make(ctx, Status.READY, "none")
    order = [t.id for t in tasks.list_tasks(ctx, BOARD, sort="due")]
    assert order == [done.id, soon.id, late.id, none.id]
    assert tasks.list_tasks(ctx, BOARD, due="overdue") == []
    clock.advance(75)
    assert _ids(tasks.list_tasks(ctx, BOARD, due="overdue")) == {soon.id}  # done is never overdue
    assert _ids(tasks.list_tasks(ctx, BOARD, due="none")) == {none.id}
    assert _ids(tasks.list_tasks(ctx, BOARD, due="has")) == {late.id, soon.id, done.id}
    with pytest.raises(ValidationError, match="or filter with overdue, has, none"):
        tasks.list_tasks(ctx, BOARD, due="soonish")


def test_needs_attention(ctx, clock, user) -> None:
    blocked = make(ctx, Status.BLOCKED, "blocked")
    make(ctx, Status.READY, "fine")
    unassigned = tasks.create(ctx, BOARD, title="nobody", actor=user).task
    overdue = make(ctx, Status.TODO, "overdue", due_at=clock() + 5)
    clock.advance(10)
    assert _ids(tasks.list_tasks(ctx, BOARD, attention=True)) == {blocked.id, unassigned.id, overdue.id}
    page = board_page.page(ctx, BOARD, attention=True)
    assert {t["id"] for c in page["columns"] for t in c["tasks"]} == {blocked.id, unassigned.id,
                                                                        overdue.id}


def test_bulk_labels_and_due(ctx, user) -> None:
    a = make(ctx, Status.READY, "a", labels=["old"])
    b = make(ctx, Status.TODO, "b")
    out = bulk.apply(ctx, BOARD, [a.id, b.id, "t_nope0000"],
                     bulk.Change(priority=2, add_labels=["new"], remove_labels=["old"],
                                 due_at="2031-01-01", set_due=True), actor=user)
    assert [o.ok for o in out] == [True, True, False]
    for tid in (a.id, b.id):
        t = tasks.get(ctx, BOARD, tid)
        assert (t.labels, t.priority) == (("new",), 2)
        assert t.due_at == parse_due("2031-01-01")
    out = bulk.apply(ctx, BOARD, [a.id], bulk.Change(due_at=None, set_due=True), actor=user)
    assert out[0].ok and tasks.get(ctx, BOARD, a.id).due_at is None
    kinds = [e.kind for e in events.since(ctx, 0, task_id=a.id)]
    assert kinds.count("due_changed") == 2 and kinds.count("labeled") == 1


def test_export_and_import_keep_labels_and_due_dates(ctx, user) -> None:
    from agentkanban.services import boards, export

    make(ctx, Status.READY, "a", labels=["bug", "ui"], due_at="2030-01-31")
    make(ctx, Status.TODO, "b")
    lines = list(export.export(ctx, BOARD))
    boards.create(ctx, "copy")
    export.import_stream(ctx, lines, board="copy")
    got = {t.title: t for t in tasks.list_tasks(ctx, "copy")}
    assert got["a"].labels == ("bug", "ui") and got["a"].due_at == parse_due("2030-01-31")
    assert got["b"].labels == () and got["b"].due_at is None
    bad = [ln.replace('"labels":["bug","ui"]', '"labels":["a,b"]') for ln in lines]
    with pytest.raises(ValidationError, match="contains a comma"):
        export.import_stream(ctx, bad, board="copy")
    assert len(tasks.list_tasks(ctx, "copy")) == 2


def test_adding_past_the_limit_is_refused_on_every_path(ctx, user) -> None:
    full = make(ctx, Status.READY, "full", labels=[f"l{i}" for i in range(20)])
    room = make(ctx, Status.READY, "room")
    message = f"task {full.id} would have 21 labels, at most 20"
    with pytest.raises(ValidationError, match=message):
        changes.update(ctx, BOARD, full.id, changes.Update(add_labels=["one-more"]), actor=user)
    with pytest.raises(ValidationError, match=message):
        labels.edit(ctx, BOARD, [room.id, full.id], add=["one-more"])
    assert tasks.get(ctx, BOARD, room.id).labels == ()  # all or nothing
    out = bulk.apply(ctx, BOARD, [room.id, full.id], bulk.Change(add_labels=["one-more"]), actor=user)
    assert [(o.ok, o.error) for o in out] == [(True, None), (False, message)]
    assert tasks.get(ctx, BOARD, room.id).labels == ("one-more",)
    assert len(tasks.get(ctx, BOARD, full.id).labels) == 20
