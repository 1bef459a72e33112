"""The Runners view and the runner on a running card, against a real server: a runner registers and
claims through the runner routes with its own token, exactly as ``kanban runner`` does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Server, card, column, require_playwright, signed_in, start_server, stop_server

expect = require_playwright()

HOSTILE = '<img src=x onerror="window.pwned=1">'


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: the view starts with no runner at all."""
    srv = start_server(tmp_path_factory.mktemp("runners-home"))
    try:
        yield srv
    finally:
        stop_server(srv)


def as_runner(srv: Server, token: str, path: str, body: dict[str, Any]) -> Any:
    """POST to a runner route with the runner token alone (no session cookie)."""
    r = httpx.post(srv.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, f"{path} -> {r.status_code}: {r.text}"
    return r.json()


def test_runners_view_and_the_runner_on_a_running_card(browser: Any, fresh: Server) -> None:
    with signed_in(browser, fresh) as (page, errors):
        page.locator("#runners-btn").click()
        dialog = page.locator("#runners-dialog")
        expect(dialog.locator("#runners-empty")).to_be_visible()
        expect(dialog.locator("#runners-empty")).to_contain_text("kanban runners token create NAME")
        expect(dialog.locator(".runner")).to_have_count(0)
        dialog.get_by_role("button", name="Close").click()
        assert not errors

    token = fresh.api("POST", "/api/runners/tokens", json={"name": "gpu-box-1"})["token"]
    assert token.startswith("kbr_")
    as_runner(fresh, token, "/api/runners/register",
              {"profiles": ["remote"], "labels": ["gpu"], "capacity": 2, "version": "9.9.9<b>",
               "host": HOSTILE})
    fresh.api("POST", "/api/runners/tokens", json={"name": "spare"})  # made, never registered
    old = fresh.api("POST", "/api/runners/tokens", json={"name": "old-box"})["token"]
    as_runner(fresh, old, "/api/runners/register", {"profiles": ["remote"]})
    fresh.api("DELETE", "/api/runners/old-box")
    task = fresh.create("Train the model", assignee="remote")
    local = fresh.create("Stays here", assignee="coder")
    [work] = as_runner(fresh, token, "/api/runners/claim", {"slots": 1, "wait": 0})["work"]
    assert work["task_id"] == task["id"]
    assert fresh.task(task["id"])["task"]["runner"] == "gpu-box-1"
    assert fresh.task(local["id"])["task"]["runner"] is None

    with signed_in(browser, fresh) as (page, errors):
        # The running card names its runner.
        running = card(page, task["id"])
        expect(column(page, "running").locator(f'.card[data-id="{task["id"]}"]')).to_be_visible()
        expect(running.locator(".badge.runner")).to_have_text("on gpu-box-1")
        expect(card(page, local["id"]).locator(".badge.runner")).to_have_count(0)

        page.locator("#runners-btn").click()
        dialog = page.locator("#runners-dialog")
        expect(dialog.locator("#runners-empty")).to_be_hidden()
        expect(dialog.locator("#runners-summary")).to_have_text("1 of 3 online")
        row = dialog.locator('.runner[data-runner="gpu-box-1"]')
        expect(row).to_have_attribute("data-state", "online")
        expect(row.locator(".runner-state")).to_have_text("online")
        expect(row.locator(".runner-labels")).to_have_text("gpu")
        expect(row.locator(".runner-profiles")).to_have_text("remote")
        expect(row.locator(".runner-capacity")).to_have_text("1 of 2 busy")
        expect(row.locator(".runner-seen")).to_contain_text("ago")
        # What a runner says about itself is text, never markup.
        expect(row.locator(".runner-host")).to_have_text(HOSTILE)
        expect(row.locator(".runner-version")).to_have_text("9.9.9<b>")
        expect(dialog.locator("img")).to_have_count(0)
        expect(dialog.locator(".runner-version b")).to_have_count(0)
        spare = dialog.locator('.runner[data-runner="spare"]')
        expect(spare).to_have_attribute("data-state", "offline")
        expect(spare.locator(".runner-seen")).to_have_text("not registered yet")
        expect(dialog.locator('.runner[data-runner="old-box"] .runner-state')).to_have_text("revoked")
        # Online first: the busy runner heads the list.
        expect(dialog.locator(".runner").first).to_have_attribute("data-runner", "gpu-box-1")

        # Its running task opens the task's drawer, which names the runner too.
        link = row.locator(".runner-task")
        expect(link).to_have_text(f"{task['id']} (default, remote)")
        link.click()
        expect(dialog).to_be_hidden()
        drawer = page.locator("#drawer")
        expect(drawer).to_contain_text("Train the model")
        expect(drawer.locator(".run-runner")).to_have_text("gpu-box-1")
        assert page.evaluate("window.pwned") is None
        assert not errors
