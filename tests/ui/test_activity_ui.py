"""The activity feed: one click from the header, newest first, filtered, and a click opens the task."""

from __future__ import annotations

from .conftest import open_board, require_playwright

expect = require_playwright()


def test_feed_filters_and_opens_a_task(page, server):
    board = server.new_board("activity-ui")
    a = server.create("Write <b>docs</b>", board=board, assignee="writer")
    b = server.create("Fix the bug", board=board, assignee="coder")
    server.api("POST", f"/api/tasks/{a['id']}/comments", board=board, json={"body": "start here"})
    feed = server.api("GET", "/api/activity", board=board, params={"kind": "created"})
    assert [e["task_id"] for e in feed["events"]] == [b["id"], a["id"]]
    open_board(page, board)
    page.locator("#activity-btn").click()
    dialog = page.locator("#activity-dialog")
    items = dialog.locator(".activity-item")
    expect(items).to_have_count(3)
    expect(items.first).to_have_attribute("data-kind", "commented")
    expect(items.nth(2)).to_contain_text("Write <b>docs</b>")  # a title is text, never markup
    dialog.locator('input[name="profile"]').fill("coder")
    dialog.locator("button[type=submit]").click()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(b["id"])
    items.first.locator(".linklike").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#drawer-title")).to_have_text("Fix the bug")
