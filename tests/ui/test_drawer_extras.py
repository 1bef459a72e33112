"""Our dashboard's drawer: attachments, child results, delete, reclaim, reassign, specify."""

from __future__ import annotations

from agentkanban.services import runs

from .conftest import card, open_board, require_playwright, services_ctx, wait_for
from .test_drawer import open_drawer

expect = require_playwright()


def test_attachments_child_results_and_delete(page, server, tmp_path):
    board = server.new_board("drawer-extras")
    parent = server.create("the parent", board=board)["id"]
    kid = server.create("the child", board=board)["id"]
    server.api("POST", "/api/links", board=board, json={"parent_id": parent, "child_id": kid})
    server.api("PATCH", f"/api/tasks/{parent}", board=board, json={"status": "done", "summary": "ok"})
    server.api("PATCH", f"/api/tasks/{kid}", board=board, json={"status": "done", "summary": "**found** it"})
    open_board(page, board)
    drawer = open_drawer(page, parent)
    results = drawer.locator('[data-section="child-results"]')
    expect(results.locator(f'.child-result[data-id="{kid}"]')).to_contain_text("the child")
    expect(results.locator("strong", has_text="found")).to_be_visible()

    f = tmp_path / "notes.html"
    f.write_bytes(b"<script>window.__pwned=1</script>")
    drawer.locator('[data-key="attach-input"]').set_input_files(str(f))
    link = drawer.locator('[data-section="attachments"] a', has_text="notes.html")
    expect(link).to_be_visible()
    with page.expect_download() as dl:
        link.click()
    saved = tmp_path / "saved"
    dl.value.save_as(saved)
    assert saved.read_bytes() == b"<script>window.__pwned=1</script>"
    assert page.evaluate("window.__pwned") is None
    assert [a["filename"] for a in server.task(parent, board)["attachments"]] == ["notes.html"]
    drawer.get_by_role("button", name="Remove notes.html").click()
    expect(drawer.locator('[data-section="attachments"]')).to_contain_text("No attachments.")

    drawer.locator('[data-key="delete"]').click()
    page.locator("#ask-dialog #ask-ok").click()
    expect(drawer).to_be_hidden()
    expect(card(page, parent)).to_have_count(0)
    wait_for(lambda: server.client.get(f"/api/tasks/{parent}").status_code == 404)


def test_reclaim_reassign_and_specify(page, server):
    board = server.new_board("drawer-ops")
    busy = server.create("busy", board=board, assignee="bot")["id"]
    idea = server.create("an idea", board=board, triage=True)["id"]
    ctx = services_ctx(server)
    assert runs.claim(ctx, board, busy, profile="bot", lock="elsewhere:1:x", ttl=900)
    open_board(page, board)
    drawer = open_drawer(page, busy)
    drawer.locator('[data-key="reclaim"]').click()
    page.locator("#ask-input").fill("stuck")
    page.locator("#ask-dialog #ask-ok").click()
    wait_for(lambda: server.task(busy, board)["task"]["status"] == "ready")
    assert server.task(busy, board)["runs"][-1]["outcome"] == "reclaimed"
    expect(drawer.locator(".status-pill").first).to_contain_text("Ready")

    drawer.locator('[data-key="reassign"]').click()
    page.locator("#ask-input").fill("carol")
    page.locator("#ask-dialog #ask-ok").click()
    wait_for(lambda: server.task(busy, board)["task"]["assignee"] == "carol")
    drawer.locator(".drawer-close").click()

    drawer = open_drawer(page, idea)
    drawer.locator('[data-key="specify"]').click()
    expect(page.locator(".toast-error")).to_contain_text("no orchestrator profile is set")
    assert server.task(idea, board)["task"]["status"] == "triage"
