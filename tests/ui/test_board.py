"""The board: signing in, creating, dragging, refusals, multi-select and the keyboard."""

from __future__ import annotations

import re

from .conftest import TOKEN, card, column, drag, open_board, require_playwright, services_ctx, wait_for

expect = require_playwright()


def test_unauthenticated_visit_goes_to_login_and_token_signs_in(anon_page, server):
    page = anon_page
    page.goto("/")
    page.wait_for_url(re.compile(r"/login$"))
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("That token was not accepted.")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(".column")).to_have_count(8)  # triage, todo, scheduled, ready, running, review, blocked, done
    expect(page.locator('#live-status[data-state="live"]')).to_be_visible()


def test_create_a_task_from_a_column(page, server):
    board = server.new_board("create-col")
    open_board(page, board)
    column(page, "todo").locator("[data-create]").click()
    dialog = page.locator("#create-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    dialog.locator("[name=title]").fill("Write the release notes")
    dialog.locator("[name=body]").fill("Cover the **new** board")
    dialog.locator("[name=assignee]").fill("writer")
    dialog.locator("[name=priority]").fill("3")
    dialog.locator("[name=tenant]").fill("acme")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    new_card = column(page, "todo").locator(".card", has_text="Write the release notes")
    expect(new_card).to_be_visible()
    expect(new_card.locator(".badge.prio")).to_have_text("P3")
    expect(new_card.locator(".badge.tenant")).to_have_text("acme")
    expect(new_card.locator(".card-assignee")).to_have_text("@writer")
    task_id = new_card.get_attribute("data-id")
    t = server.task(task_id, board)["task"]
    assert (t["status"], t["assignee"], t["priority"], t["tenant"]) == ("todo", "writer", 3, "acme")
    assert t["body"] == "Cover the **new** board"


def test_create_in_triage_with_a_parent(page, server):
    board = server.new_board("create-triage")
    parent = server.create("The parent", board=board)
    open_board(page, board)
    column(page, "triage").locator("[data-create]").click()
    dialog = page.locator("#create-dialog")
    dialog.locator("[name=title]").fill("A rough idea")
    picker = dialog.locator(".chip-input")
    picker.fill(parent["id"])
    picker.press("Enter")
    expect(dialog.locator(".chips .chip")).to_contain_text(parent["id"])
    dialog.locator("button[type=submit]").click()
    new_card = column(page, "triage").locator(".card", has_text="A rough idea")
    expect(new_card).to_be_visible()
    detail = server.task(new_card.get_attribute("data-id"), board)
    assert detail["task"]["status"] == "triage"
    assert detail["links"]["parents"] == [parent["id"]]


def test_drag_from_todo_to_ready_changes_the_server(page, server):
    board = server.new_board("drag")
    t = server.create("Drag me", board=board)
    server.api("PATCH", f"/api/tasks/{t['id']}", board=board, json={"status": "todo"})
    open_board(page, board)
    source = card(page, t["id"])
    expect(source).to_have_attribute("data-status", "todo")
    drag(page, source, column(page, "ready"))
    wait_for(lambda: server.task(t["id"], board)["task"]["status"] == "ready")
    expect(column(page, "ready").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible()


def test_a_refused_move_shows_the_reason_and_puts_the_card_back(page, server):
    board = server.new_board("refuse")
    t = server.create("Cannot run by hand", board=board)
    open_board(page, board)
    drag(page, card(page, t["id"]), column(page, "running"))
    expect(page.locator(".toast-error")).to_contain_text("running")
    expect(column(page, "ready").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible()
    assert server.task(t["id"], board)["task"]["status"] == "ready"


def test_drag_to_done_asks_for_a_summary(page, server):
    board = server.new_board("drag-done")
    t = server.create("Finish me", board=board)
    open_board(page, board)
    drag(page, card(page, t["id"]), column(page, "done"))
    ask = page.locator("#ask-dialog")
    expect(ask).to_be_visible()
    ask.locator("#ask-ok").click()  # empty summary is not accepted
    expect(ask.locator(".form-error")).to_be_visible()
    ask.locator("#ask-input").fill("Shipped in v2")
    ask.locator("#ask-ok").click()
    wait_for(lambda: server.task(t["id"], board)["task"]["status"] == "done")
    detail = server.task(t["id"], board)
    assert detail["task"]["result"] == "Shipped in v2"
    expect(column(page, "done").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible()


def test_cancelled_confirmation_puts_the_card_back(page, server):
    board = server.new_board("drag-cancel")
    t = server.create("Keep me", board=board)
    open_board(page, board)
    drag(page, card(page, t["id"]), column(page, "blocked"))
    page.locator("#ask-dialog [data-close]").click()
    expect(column(page, "ready").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible()
    assert server.task(t["id"], board)["task"]["status"] == "ready"


def test_multi_select_and_bulk_actions(page, server):
    board = server.new_board("bulk")
    ids = [server.create(f"Bulk {i}", board=board)["id"] for i in range(4)]
    open_board(page, board)
    modifier = "Meta" if page.evaluate("navigator.platform").startswith("Mac") else "Control"
    card(page, ids[0]).locator(".card-title").click(modifiers=[modifier])
    card(page, ids[2]).locator(".card-title").click(modifiers=["Shift"])
    expect(page.locator(".card.selected")).to_have_count(3)
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.fill("#bulk-priority", "5")
    page.click('[data-bulk="priority"]')
    wait_for(lambda: all(server.task(i, board)["task"]["priority"] == 5 for i in ids[:3]))
    assert server.task(ids[3], board)["task"]["priority"] == 0
    # Select again with checkboxes, reassign, then Esc clears the selection.
    expect(page.locator(".card.selected")).to_have_count(0)
    card(page, ids[1]).hover()
    card(page, ids[1]).locator(".card-check").check()
    card(page, ids[3]).hover()
    card(page, ids[3]).locator(".card-check").check()
    page.fill("#bulk-assignee", "reviewer")
    page.click('[data-bulk="assign"]')
    wait_for(lambda: server.task(ids[3], board)["task"]["assignee"] == "reviewer")
    assert server.task(ids[1], board)["task"]["assignee"] == "reviewer"
    card(page, ids[0]).locator(".card-title").click(modifiers=[modifier])
    expect(page.locator("#bulk-bar")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".card.selected")).to_have_count(0)
    expect(page.locator("#bulk-bar")).to_be_hidden()


def test_bulk_partial_failure_is_listed(page, server):
    board = server.new_board("bulk-fail")
    ready = server.create("Ready one", board=board)
    done = server.create("Done one", board=board)
    server.api("PATCH", f"/api/tasks/{done['id']}", board=board,
               json={"status": "done", "result": "ok", "summary": "ok"})
    open_board(page, board)
    card(page, ready["id"]).locator(".card-check").check()
    card(page, done["id"]).locator(".card-check").check()
    page.click('[data-bulk="blocked"]')
    page.locator("#ask-ok").click()
    errors = page.locator("#bulk-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(done["id"])
    expect(errors).to_contain_text("1 of 2 failed")
    wait_for(lambda: server.task(ready["id"], board)["task"]["status"] == "blocked")
    expect(card(page, done["id"])).to_have_class(re.compile(r"\bfailed\b"))


def test_keyboard_navigation_open_and_shortcuts(page, server):
    board = server.new_board("keys")
    a = server.create("Alpha", board=board, priority=2)
    b = server.create("Beta", board=board, priority=1)
    c = server.create("Gamma", board=board, triage=True)
    open_board(page, board)
    page.focus(f'.card[data-id="{a["id"]}"]')
    page.keyboard.press("ArrowDown")
    expect(card(page, b["id"])).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(card(page, c["id"])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#drawer-title")).to_have_text("Gamma")
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).to_be_hidden()
    expect(card(page, c["id"])).to_be_focused()
    # Space selects; Shift+ArrowRight moves the card to the next column (triage -> todo).
    page.keyboard.press("Space")
    expect(card(page, c["id"])).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+ArrowRight")
    wait_for(lambda: server.task(c["id"], board)["task"]["status"] == "todo")
    # "/" focuses search, "n" opens the create dialog, "?" the help.
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("beta")
    expect(page.locator(".card")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".card")).to_have_count(3)
    page.locator("#search").blur()
    page.keyboard.press("n")
    expect(page.locator("#create-dialog")).to_be_visible()
    expect(page.locator("#create-dialog [name=title]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#create-dialog")).to_be_hidden()


def test_filters_and_lanes(page, server):
    board = server.new_board("filters")
    server.create("For acme", board=board, tenant="acme", assignee="bob")
    server.create("For globex", board=board, tenant="globex", assignee="carol", body="needle in body")
    open_board(page, board)
    expect(page.locator(".card")).to_have_count(2)
    # Each filter reloads the board; the assertion retries until exactly the matching cards show.
    titles = page.locator(".card .card-title")
    page.select_option("#filter-tenant", "acme")
    expect(titles).to_have_text(["For acme"])
    page.click("#clear-filters")
    page.select_option("#filter-assignee", "carol")
    expect(titles).to_have_text(["For globex"])
    page.select_option("#filter-assignee", "")
    page.fill("#search", "needle")
    expect(titles).to_have_text(["For globex"])


def _touch(cdp, kind, x=None, y=None):
    points = [] if x is None else [{"x": x, "y": y}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_touch_tap_opens_and_press_and_drag_moves(browser, server):
    board = server.new_board("touch")
    t = server.create("Touch me", board=board)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server.url, has_touch=True)
    try:
        ctx.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": server.url}])
        page = ctx.new_page()
        open_board(page, board)
        cdp = ctx.new_cdp_session(page)
        box = card(page, t["id"]).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        # A tap is a click: it opens the drawer.
        _touch(cdp, "touchStart", x, y)
        _touch(cdp, "touchEnd")
        expect(page.locator("#drawer")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#drawer")).to_be_hidden()
        # Press, hold, then drag to Todo.
        target = column(page, "todo").bounding_box()
        _touch(cdp, "touchStart", x, y)
        page.wait_for_timeout(450)
        tx, ty = target["x"] + target["width"] / 2, target["y"] + 150
        for i in range(1, 13):
            _touch(cdp, "touchMove", x + (tx - x) * i / 12, y + (ty - y) * i / 12)
            page.wait_for_timeout(16)
        _touch(cdp, "touchEnd")
        wait_for(lambda: server.task(t["id"], board)["task"]["status"] == "todo")
        expect(column(page, "todo").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible()
    finally:
        ctx.close()


def test_aria_roles_and_the_system_theme(page, server):
    board = server.new_board("aria")
    server.create("Labelled", board=board)
    page.emulate_media(color_scheme="light")
    open_board(page, board)
    region = page.get_by_role("region", name="Kanban board")
    expect(region).to_be_visible()
    expect(region.get_by_role("region", name="Ready")).to_be_visible()
    expect(region.get_by_role("list").get_by_role("listitem")).to_have_count(1)
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    # The drawer is a modal dialog: the board behind it is inert while it is open.
    page.get_by_role("listitem").first.click()
    expect(page.get_by_role("dialog", name="Labelled")).to_be_visible()
    assert page.evaluate("document.getElementById('board').inert") is True
    page.keyboard.press("Escape")
    assert page.evaluate("document.getElementById('board').inert") is False


def test_stale_cards_are_tinted(page, server):
    import time

    from agentkanban.services import Actor
    from agentkanban.services import tasks as task_service

    board = server.new_board("stale")
    fresh = server.create("Fresh", board=board)
    old = task_service.create(services_ctx(server, clock=lambda: time.time() - 3 * 3600), board,
                              title="Waiting for hours", actor=Actor(name="t")).task
    ancient = task_service.create(services_ctx(server, clock=lambda: time.time() - 3 * 86400 - 3600), board,
                                  title="Waiting for days", actor=Actor(name="t")).task
    open_board(page, board)
    expect(card(page, old.id)).to_have_class(re.compile(r"\bstale-1\b"))
    expect(card(page, ancient.id)).to_have_class(re.compile(r"\bstale-2\b"))
    expect(card(page, fresh["id"])).not_to_have_class(re.compile(r"\bstale-"))
    expect(card(page, ancient.id).locator(".card-age")).to_have_text("3d")


def test_run_dispatcher_now_reports_the_pass(page, server):
    board = server.new_board("dispatch")
    server.create("Nobody's job yet", board=board)
    open_board(page, board)
    page.click("#dispatch-btn")
    expect(page.locator(".toast", has_text="Dispatcher ran")).to_contain_text("1 ready but unassigned")
