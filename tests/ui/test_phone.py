"""The dashboard on a phone (390x844): a header and toolbar of at most a tenth of the height,
and one column at a time, swiped sideways (CSS scroll snap)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import require_playwright

expect = require_playwright()

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, server, tmp_path):
    ctx = browser.new_context(viewport=PHONE, base_url=server.url, is_mobile=True, has_touch=True,
                              device_scale_factor=2)
    ctx.set_default_timeout(10_000)
    ctx.add_cookies([{"name": "kanban_token", "value": server.token, "url": server.url}])
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    ctx.close()
    assert not errors, errors


def test_phone_header_takes_a_tenth_and_columns_swipe_one_at_a_time(phone, server, tmp_path):
    board = server.new_board("phone")
    for i in range(3):
        server.create(f"Ready task {i}", board=board, labels=["mobile"])
    server.create("Triage idea", board=board, triage=True)
    phone.add_init_script(f"localStorage.setItem('agentkanban.board', {board!r})")
    phone.goto("/")
    phone.wait_for_selector('#board[aria-busy="false"]')
    top = phone.locator(".topbar").bounding_box()
    bar = phone.locator(".toolbar").bounding_box()
    chrome = bar["y"] + bar["height"] - top["y"]
    assert top["y"] == 0
    assert chrome <= PHONE["height"] / 10, f"header and toolbar are {chrome}px of {PHONE['height']}"
    board_box = phone.locator("#board").bounding_box()
    assert board_box["y"] >= bar["y"] + bar["height"] - 1
    # Each column is as wide as the screen, and the board snaps to one of them.
    widths = phone.locator(".column").evaluate_all("cs => cs.map((c) => c.getBoundingClientRect().width)")
    assert all(PHONE["width"] - 30 <= w <= PHONE["width"] for w in widths), widths
    snap = phone.locator("#board").evaluate("b => getComputedStyle(b).scrollSnapType")
    assert snap.startswith("x mandatory")
    first = phone.locator(".column").nth(0).bounding_box()
    assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE["width"]
    # A swipe (a sideways scroll) lands on the next column, whole.
    phone.locator("#board").evaluate("b => b.scrollBy({left: 250, behavior: 'instant'})")
    phone.wait_for_function("""() => {
      const b = document.querySelector('#board');
      const c = document.querySelectorAll('.column')[1].getBoundingClientRect();
      return Math.abs(c.left + c.width / 2 - window.innerWidth / 2) < 4;
    }""")
    # The filters open on demand, and then the toolbar may grow.
    expect(phone.locator("#filter-label")).to_be_hidden()
    phone.click("#filters-toggle")
    expect(phone.locator("#filter-label")).to_be_visible()
    phone.click("#filters-toggle")
    expect(phone.locator("#filter-label")).to_be_hidden()
    out = Path(os.environ.get("KANBAN_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    phone.locator("#board").evaluate("b => b.scrollTo({left: 0, behavior: 'instant'})")
    phone.screenshot(path=str(out / "board-phone.png"))
    assert (out / "board-phone.png").stat().st_size > 10_000
