"""The Ops panel: the doctor's findings and repairs, and recurring schedules, in the dashboard."""

from __future__ import annotations

from .conftest import open_board, require_playwright

expect = require_playwright()


def test_doctor_findings_and_schedules(page, server):
    board = server.new_board("ops-panel")
    lonely = server.create('<img src=x onerror="window.pwned=1"> nobody takes me', board=board)
    open_board(page, board)
    page.click("#ops-btn")
    dialog = page.locator("#ops-dialog")
    expect(dialog).to_be_visible()
    item = dialog.locator('.finding[data-code="ready_unassigned"]')
    expect(item).to_contain_text(lonely["id"])
    expect(item).to_contain_text("Fix: assign it")
    expect(dialog.locator("#doctor-repair")).to_be_disabled()  # nothing here is safe to repair
    expect(dialog.locator("#schedule-empty")).to_be_visible()

    form = dialog.locator("#schedule-form")
    form.locator("[name=title]").fill("<b>Weekly</b> report")
    form.locator("[name=cron]").fill("0 9 * *")
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-error")).to_contain_text("cron:")
    form.locator("[name=cron]").fill("0 9 * * MON")
    form.locator("[name=tz]").fill("Europe/Berlin")
    form.locator("[name=assignee]").fill("writer")
    form.locator("button[type=submit]").click()
    row = dialog.locator(".schedule", has_text="Weekly")
    expect(row).to_contain_text("<b>Weekly</b> report")  # shown as text, never as markup
    expect(row).to_contain_text("0 9 * * MON (Europe/Berlin)")
    [made] = server.api("GET", "/api/schedules", board=board)["schedules"]
    assert made["template"]["assignee"] == "writer" and made["catch_up"] == "latest"
    row.get_by_role("button", name="Pause").click()
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    assert server.api("GET", "/api/schedules", board=board)["schedules"][0]["paused"] is True
    dialog.locator(".schedule", has_text="Weekly").get_by_role("button", name="Remove").click()
    expect(dialog.locator(".schedule")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
