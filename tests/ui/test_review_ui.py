"""Review and approval in the dashboard: a person approves or sends back work waiting for
them, and approves a task's start, from the card and from the drawer."""

from __future__ import annotations

from agentkanban.services import Actor, review, runs, transitions

from .conftest import card, column, open_board, require_playwright, services_ctx, wait_for

expect = require_playwright()


def in_human_review(server, board: str, title: str) -> str:
    t = server.create(title, board=board, assignee="coder", review_by="human")
    ctx = services_ctx(server)
    c = runs.claim(ctx, board, t["id"], profile="coder", lock="ui:1", ttl=900)
    worker = Actor("coder", worker_task=t["id"], run_id=c.run_id, run_token=c.token)
    transitions.complete(ctx, board, t["id"], actor=worker, summary="implemented, please check")
    return t["id"]


def test_approve_from_the_card_and_request_changes_from_the_drawer(page, server):
    board = server.new_board("review-ui")
    first = in_human_review(server, board, "Add the login form")
    second = in_human_review(server, board, "Add the signup form")
    open_board(page, board)
    c1 = column(page, "review").locator(f'.card[data-id="{first}"]')
    expect(c1.locator(".badge.review", has_text="needs your review")).to_be_visible()
    c1.locator('[data-review="approve"]').click()
    dialog = page.locator("#ask-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#ask-input").fill("tried it, works")
    page.locator("#ask-ok").click()
    wait_for(lambda: server.task(first, board)["task"]["status"] == "done")
    expect(column(page, "done").locator(f'.card[data-id="{first}"]')).to_be_visible()
    verdict = server.task(first, board)["runs"][-1]
    assert (verdict["kind"], verdict["outcome"], verdict["summary"]) == ("review", "approved", "tried it, works")

    card(page, second).locator(".card-title").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    drawer.locator('[data-review="changes"]').click()
    page.locator("#ask-ok").click()  # an empty reason is refused in the dialog
    expect(page.locator("#ask-dialog")).to_contain_text("is required")
    page.locator("#ask-input").fill("the password field needs a label")
    page.locator("#ask-ok").click()
    wait_for(lambda: server.task(second, board)["task"]["status"] == "ready")
    got = server.task(second, board)["task"]
    assert got["review_rounds"] == 1
    expect(column(page, "ready").locator(f'.card[data-id="{second}"] .badge', has_text="round 1")).to_be_visible()


def test_approve_start_from_the_card(page, server):
    board = server.new_board("approve-ui")
    t = server.create("Drop the old tables", board=board, assignee="coder", requires_approval=True)
    review.request_approval(services_ctx(server), board, [t["id"]])
    open_board(page, board)
    c = card(page, t["id"])
    expect(c.locator(".badge", has_text="awaiting approval")).to_be_visible()
    c.locator('[data-review="approve-start"]').click()
    page.locator("#ask-ok").click()
    wait_for(lambda: server.task(t["id"], board)["task"]["approval"] == "approved")
    expect(c.locator(".badge", has_text="awaiting approval")).to_have_count(0)
    expect(page.locator("#drawer")).to_be_hidden()  # the button acted; the drawer did not open
