"""What people expect from a board: labels, due dates, filters kept in the address, undo,
dismissible toasts that cover nothing, a drawer that keeps its sections open, /#t_id links."""

from __future__ import annotations

import re
import time

from .conftest import card, column, open_board, require_playwright, wait_for

expect = require_playwright()


def _goto(page, path: str) -> None:
    page.goto(path)
    page.wait_for_selector('#board[aria-busy="false"]')
    page.wait_for_selector('#live-status[data-state="live"]')


def test_labels_on_cards_and_in_the_drawer(page, server):
    board = server.new_board("labels-ui")
    t = server.create("Fix the login page", board=board, labels=["bug", "<img src=x onerror=alert(1)>"])
    server.api("PUT", "/api/labels/bug", board=board, json={"color": "#ff0000"})
    open_board(page, board)
    chips = card(page, t["id"]).locator(".label-chip")
    expect(chips).to_have_count(2)
    bug = card(page, t["id"]).locator('.label-chip[data-label="bug"]')
    expect(bug).to_have_text("bug")
    assert bug.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(255, 0, 0)"
    # User text is text: the would-be tag is shown as typed, no element is made of it.
    expect(card(page, t["id"]).locator(".label-chip").nth(0)).to_have_text("<img src=x onerror=alert(1)>")
    assert card(page, t["id"]).locator("img").count() == 0
    card(page, t["id"]).click()
    drawer = page.locator("#drawer")
    drawer.locator(".label-input").fill("frontend")
    drawer.locator(".label-input").press("Enter")
    expect(drawer.locator('.drawer-labels .label-chip[data-label="frontend"]')).to_be_visible()
    wait_for(lambda: "frontend" in server.task(t["id"], board)["task"]["labels"])
    drawer.get_by_role("button", name="Remove label bug").click()
    wait_for(lambda: "bug" not in server.task(t["id"], board)["task"]["labels"])
    page.keyboard.press("Escape")
    expect(card(page, t["id"]).locator('.label-chip[data-label="frontend"]')).to_be_visible()
    expect(card(page, t["id"]).locator('.label-chip[data-label="bug"]')).to_have_count(0)


def test_create_with_labels_and_a_due_date(page, server):
    board = server.new_board("labels-create")
    open_board(page, board)
    column(page, "ready").locator("[data-create]").click()
    dialog = page.locator("#create-dialog")
    dialog.locator("[name=title]").fill("Labelled from the dialog")
    dialog.locator("[name=labels]").fill("ui, urgent ")
    dialog.locator("[name=due]").fill("2031-03-04T09:30")
    dialog.locator("button[type=submit]").click()
    new_card = column(page, "ready").locator(".card", has_text="Labelled from the dialog")
    expect(new_card.locator(".label-chip")).to_have_count(2)
    t = server.task(new_card.get_attribute("data-id"), board)["task"]
    assert t["labels"] == ["ui", "urgent"]
    assert t["due_at"] == page.evaluate("() => Math.round(new Date('2031-03-04T09:30').getTime() / 1000)")


def test_bulk_labels_from_the_bulk_bar(page, server):
    board = server.new_board("labels-bulk")
    a, b = server.create("A", board=board), server.create("B", board=board)
    open_board(page, board)
    card(page, a["id"]).locator(".card-check").check()
    card(page, b["id"]).locator(".card-check").check()
    page.fill("#bulk-label", "sprint-3")
    page.click('[data-bulk="label-add"]')
    for t in (a, b):
        wait_for(lambda t=t: server.task(t["id"], board)["task"]["labels"] == ["sprint-3"])
        expect(card(page, t["id"]).locator('.label-chip[data-label="sprint-3"]')).to_be_visible()


def test_due_dates_overdue_highlight_and_setting_one(page, server):
    board = server.new_board("due-ui")
    late = server.create("Late report", board=board, due_at="2001-02-03")
    later = server.create("Next year", board=board, due_at=int(time.time()) + 400 * 86400)
    open_board(page, board)
    expect(card(page, late["id"])).to_have_class(re.compile(r"\bis-overdue\b"))
    expect(card(page, late["id"]).locator(".badge.due.overdue")).to_contain_text("overdue")
    expect(card(page, later["id"])).not_to_have_class(re.compile(r"\bis-overdue\b"))
    expect(card(page, later["id"]).locator(".badge.due")).to_contain_text("due ")
    # Sort by due date: soonest first within the column.
    page.select_option("#sort-select", "due")
    expect(column(page, "ready").locator(".card").first).to_have_attribute("data-id", late["id"])
    card(page, later["id"]).click()
    due = page.locator("#drawer .due-input")
    due.fill("2030-06-01T12:00")
    due.dispatch_event("change")
    expected = page.evaluate("() => Math.round(new Date('2030-06-01T12:00').getTime() / 1000)")
    wait_for(lambda: server.task(later["id"], board)["task"]["due_at"] == expected)
    page.locator('#drawer [data-key="due-clear"]').click()
    wait_for(lambda: server.task(later["id"], board)["task"]["due_at"] is None)


def test_filters_live_in_the_address_and_survive_a_reload(page, server):
    board = server.new_board("url-filters")
    bug = server.create("Crash on save", board=board, labels=["bug"], assignee="coder")
    server.create("Write docs", board=board, labels=["docs"], assignee="coder")
    blocked = server.create("Needs a key", board=board, assignee="coder")
    server.api("PATCH", f"/api/tasks/{blocked['id']}", board=board, json={"status": "blocked"})
    nobody = server.create("Unassigned idea", board=board)
    open_board(page, board)
    page.select_option("#filter-label", "bug")
    page.wait_for_url(re.compile(r"[?&]label=bug"))
    expect(page.locator(".card")).to_have_count(1)
    page.select_option("#filter-assignee", "coder")
    page.wait_for_url(re.compile(r"assignee=coder"))
    page.reload()
    page.wait_for_selector('#board[aria-busy="false"]')
    expect(page.locator("#filter-label")).to_have_value("bug")
    expect(page.locator("#filter-assignee")).to_have_value("coder")
    expect(page.locator(".card")).to_have_count(1)
    expect(card(page, bug["id"])).to_be_visible()
    # A shared address: only the columns and the cards it names.
    _goto(page, "/?attention=1&status=ready,blocked")
    expect(page.locator("#filter-attention")).to_be_checked()
    expect(page.locator(".column")).to_have_count(2)
    ids = {page.locator(".card").nth(i).get_attribute("data-id") for i in range(page.locator(".card").count())}
    assert ids == {blocked["id"], nobody["id"]}
    page.click("#clear-filters")
    page.wait_for_url(re.compile(r"^[^?]*$"))
    expect(page.locator(".column")).to_have_count(8)


def test_undo_a_move_an_edit_and_a_bulk_change(page, server):
    board = server.new_board("undo-ui")
    t = server.create("Undo me", board=board, assignee="coder", priority=1)
    u = server.create("Me too", board=board, assignee="coder", priority=2)
    open_board(page, board)
    # A move from the drawer.
    card(page, t["id"]).click()
    page.locator('#drawer [data-action="todo"]').click()
    wait_for(lambda: server.task(t["id"], board)["task"]["status"] == "todo")
    toast = page.locator(".toast", has_text="Moved to Todo")
    toast.get_by_role("button", name="Undo").click()
    wait_for(lambda: server.task(t["id"], board)["task"]["status"] == "ready")
    expect(page.locator(".toast", has_text="Undone")).to_be_visible()
    # An edit.
    page.locator('#drawer [data-key="title"]').click()
    page.locator('#drawer [data-key="title-input"]').fill("Renamed")
    page.locator('#drawer [data-key="title-input"]').press("Enter")
    wait_for(lambda: server.task(t["id"], board)["task"]["title"] == "Renamed")
    page.locator(".toast", has_text="Changed the title").get_by_role("button", name="Undo").click()
    wait_for(lambda: server.task(t["id"], board)["task"]["title"] == "Undo me")
    page.keyboard.press("Escape")
    # A bulk change: each task gets its own previous priority back.
    card(page, t["id"]).locator(".card-check").check()
    card(page, u["id"]).locator(".card-check").check()
    page.fill("#bulk-priority", "9")
    page.click('[data-bulk="priority"]')
    wait_for(lambda: server.task(u["id"], board)["task"]["priority"] == 9)
    page.locator(".toast", has_text="Priority set to 9").get_by_role("button", name="Undo").click()
    wait_for(lambda: (server.task(t["id"], board)["task"]["priority"],
                      server.task(u["id"], board)["task"]["priority"]) == (1, 2))
    # Ctrl+Z undoes the latest change too.
    card(page, t["id"]).locator(".card-check").check()
    card(page, u["id"]).locator(".card-check").check()
    page.fill("#bulk-assignee", "reviewer")
    page.click('[data-bulk="assign"]')
    wait_for(lambda: server.task(t["id"], board)["task"]["assignee"] == "reviewer")
    page.locator("#board").focus()
    page.keyboard.press("Control+z")
    wait_for(lambda: (server.task(t["id"], board)["task"]["assignee"],
                      server.task(u["id"], board)["task"]["assignee"]) == ("coder", "coder"))


def _overlaps_a_control(page) -> list[str]:
    """Controls (outside the toasts) whose box intersects a toast's."""
    return page.evaluate("""() => {
      const toasts = [...document.querySelectorAll('.toast')].map((t) => t.getBoundingClientRect());
      const hits = [];
      for (const c of document.querySelectorAll('button, input, select, textarea, a[href], .card')) {
        if (c.closest('#toasts') || !c.offsetParent) continue;
        const r = c.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        for (const t of toasts) {
          if (r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom) hits.push(c.id || c.className || c.tagName);
        }
      }
      return hits;
    }""")


def test_error_toasts_are_dismissible_and_cover_no_control(page, server):
    board = server.new_board("toasts-ui")
    t = server.create("Label me", board=board)
    open_board(page, board)
    card(page, t["id"]).locator(".card-check").check()  # the bulk bar shows too
    page.fill("#bulk-label", "a,b")
    page.click('[data-bulk="label-add"]')
    err = page.locator(".toast.toast-error")
    expect(err).to_contain_text("contains a comma")
    assert _overlaps_a_control(page) == []
    # An error stays until it is dismissed.
    page.wait_for_timeout(300)
    expect(err).to_be_visible()
    err.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".toast.toast-error")).to_have_count(0)
    # With the drawer open, the toasts take their own strip below it.
    page.click('[data-bulk="clear"]')
    card(page, t["id"]).click()
    page.locator("#drawer .label-input").fill("one,two")
    page.locator("#drawer .label-input").press("Enter")
    expect(page.locator(".toast.toast-error")).to_contain_text("contains a comma")
    assert _overlaps_a_control(page) == []
    page.locator(".toast.toast-error").get_by_role("button", name="Dismiss").click()
    expect(page.locator(".toast")).to_have_count(0)


def test_recent_events_stay_open_across_live_refreshes(page, server):
    board = server.new_board("events-open")
    t = server.create("Watch me", board=board)
    open_board(page, board)
    card(page, t["id"]).click()
    summary = page.locator('#drawer [data-key="events-summary"]')
    summary.click()
    expect(page.locator("#drawer .events-section")).to_have_attribute("open", "")
    server.api("POST", f"/api/tasks/{t['id']}/comments", board=board, json={"body": "a live change"})
    expect(page.locator("#drawer .comment, #drawer li", has_text="a live change").first).to_be_visible()
    expect(page.locator('#drawer [data-key="events-summary"]')).to_contain_text("Recent events (2)")
    expect(page.locator("#drawer .events-section")).to_have_attribute("open", "")


def test_a_task_link_opens_it_or_says_it_does_not_exist(page, server):
    board = server.new_board("links-ui")
    t = server.create("Linked task", board=board)
    page.add_init_script(f"localStorage.setItem('agentkanban.board', {board!r})")
    _goto(page, f"/#{t['id']}")
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#drawer-title")).to_have_text("Linked task")
    page.keyboard.press("Escape")
    page.evaluate("() => { location.hash = 't_0000nothere' }")
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#drawer .form-error")).to_contain_text("Task t_0000nothere does not exist on this board")
    _goto(page, "/#t_deadbeef")
    expect(page.locator("#drawer .form-error")).to_contain_text("Task t_deadbeef does not exist on this board")
