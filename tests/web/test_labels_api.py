"""Labels, due dates and the board's filters through the API: added optional fields only."""

from __future__ import annotations

from .test_tasks_api import assert_error


def _create(api, title: str, **kw) -> dict:
    r = api.post("/tasks", json={"title": title, **kw})
    assert r.status_code == 200, r.text
    return r.json()["task"]


def test_create_patch_and_read_labels_and_due(api):
    t = _create(api, "a", labels=["ui", "bug"], due_at="2030-01-31")
    assert t["labels"] == ["bug", "ui"] and t["due_at"] == 1896134399
    plain = _create(api, "plain")
    assert plain["labels"] == [] and plain["due_at"] is None  # the seed's shape, two fields more
    r = api.patch(f"/tasks/{t['id']}", json={"add_labels": ["api"], "remove_labels": ["ui"],
                                             "due_at": 1900000000})
    assert r.status_code == 200, r.text
    assert r.json()["task"]["labels"] == ["api", "bug"] and r.json()["task"]["due_at"] == 1900000000
    r = api.patch(f"/tasks/{t['id']}", json={"due_at": None, "labels": ["only"]})
    assert r.json()["task"]["due_at"] is None and r.json()["task"]["labels"] == ["only"]
    r = api.patch(f"/tasks/{t['id']}", json={"title": "renamed"})  # says nothing of labels or due
    assert r.json()["task"]["labels"] == ["only"]
    detail = api.get(f"/tasks/{t['id']}").json()
    assert [e["kind"] for e in detail["events"]].count("labeled") == 2
    assert [e["kind"] for e in detail["events"]].count("due_changed") == 2


def test_bad_input_is_400_with_the_services_words_and_changes_nothing(api):
    t = _create(api, "a", labels=["keep"])
    cases = [
        ({"add_labels": ["x" * 41]}, "at most 40"),
        ({"add_labels": ["a,b"]}, "contains a comma"),
        ({"due_at": "next week"}, "bad due date 'next week'"),
    ]
    # What the schema states is refused before the services see it (422), as everywhere: a NUL
    # in any text, and a due date in Unix seconds outside the years 2000 to 9999.
    for body, words in [({"labels": ["a\u0000b"]}, "NUL character"),
                        ({"due_at": 1.0}, "greater than or equal to")]:
        assert_error(api.patch(f"/tasks/{t['id']}", json={"title": "changed", **body}), 422, words)
        assert_error(api.post("/tasks", json={"title": "new", **body}), 422, words)
    for body, words in cases:
        assert_error(api.patch(f"/tasks/{t['id']}", json={"title": "changed", **body}), 400, words)
        assert_error(api.post("/tasks", json={"title": "new", **body} if "labels" in body or "due_at" in body
                              else {"title": "new", "labels": body["add_labels"]}), 400, words)
    assert_error(api.post("/tasks/bulk", json={"ids": [t["id"]], "priority": 4,
                                               "add_labels": ["a,b"]}), 400, "contains a comma")
    got = api.get(f"/tasks/{t['id']}").json()["task"]
    assert (got["title"], got["labels"], got["due_at"], got["priority"]) == ("a", ["keep"], None, 0)
    assert len(api.get("/tasks").json()["tasks"]) == 1


def test_bulk_labels_and_due(api):
    a, b = _create(api, "a"), _create(api, "b", labels=["old"])
    r = api.post("/tasks/bulk", json={"ids": [a["id"], b["id"]], "add_labels": ["sprint"],
                                      "remove_labels": ["old"], "due_at": "2031-01-01"})
    assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"])
    for t in api.get("/tasks").json()["tasks"]:
        assert t["labels"] == ["sprint"] and t["due_at"] == 1925078399


def test_filters_on_list_and_board_page(api):
    a = _create(api, "a", labels=["bug"], due_at="2001-01-01")
    b = _create(api, "b", labels=["bug", "ui"])
    c = _create(api, "c", assignee="coder")
    ids = lambda r: {t["id"] for t in r.json()["tasks"]}  # noqa: E731
    assert ids(api.get("/tasks", params={"label": "bug"})) == {a["id"], b["id"]}
    assert ids(api.get("/tasks", params=[("label", "bug"), ("label", "ui")])) == {b["id"]}
    assert ids(api.get("/tasks", params={"due": "overdue"})) == {a["id"]}
    # a and b are ready with nobody assigned; a is overdue too; c is fine
    assert ids(api.get("/tasks", params={"attention": "true"})) == {a["id"], b["id"]}
    assert [t["id"] for t in api.get("/tasks", params={"sort": "due"}).json()["tasks"]][0] == a["id"]
    page = api.get("/board/page", params={"label": "ui"}).json()
    assert {t["id"] for col in page["columns"] for t in col["tasks"]} == {b["id"]}
    assert {x["name"]: x["count"] for x in page["labels"]} == {"bug": 2, "ui": 1}
    assert c["id"] not in {t["id"] for col in api.get("/board/page", params={"attention": "true"})
                           .json()["columns"] for t in col["tasks"]}
    assert_error(api.get("/tasks", params={"due": "someday"}), 400, "or filter with overdue")


def test_label_colours(api):
    _create(api, "a", labels=["bug"])
    got = api.get("/labels").json()["labels"]
    assert got[0]["name"] == "bug" and got[0]["custom"] is False and got[0]["color"].startswith("#")
    r = api.put("/labels/bug", json={"color": "#123abc"})
    assert r.json() == {"name": "bug", "color": "#123abc", "custom": True, "count": 1}
    assert api.get("/labels").json()["labels"][0]["color"] == "#123abc"
    assert_error(api.put("/labels/bug", json={"color": "url(x)"}), 400, "bad colour")
    assert api.get("/labels").json()["labels"][0]["color"] == "#123abc"
