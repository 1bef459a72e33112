"""Browser tests: Debian's Chromium driven by Playwright against a real ``kanban serve``.

The server runs as a subprocess on a free port with its own KANBAN_HOME and token. With CI=true a
missing Chromium (or Playwright) fails the tests; otherwise they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ..serving import TOKEN, Server, start_server, stop_server
from ..serving import free_port as _free_port  # noqa: F401 - the hermes tests import it from here

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("KANBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test here drives the browser: select or skip them with -m browser / -m "not browser".
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true", pytrace=False)
    pytest.skip(f"{what} not available")


def require_playwright() -> Any:
    """Playwright's ``expect``; without Playwright the calling test module is skipped (failed in CI)."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        if IN_CI:
            pytest.fail("Playwright is required when CI=true (pip install -e '.[test]')", pytrace=False)
        pytest.skip("Playwright not installed (pip install -e '.[test]')", allow_module_level=True)
    return expect


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("kanban-home"))
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright (pip install playwright)")
    executable = CHROMIUM if os.path.exists(CHROMIUM) else None
    if executable is None and "KANBAN_CHROMIUM" not in os.environ:
        executable = shutil.which("chromium")
    if executable is None:
        _missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class PageErrors(list[str]):
    pass


@contextmanager
def signed_in(browser: Any, srv: Server) -> Iterator[tuple[Any, PageErrors]]:
    """A page of ``srv``'s dashboard with the session cookie set, its board loaded, and the
    script errors it raised (a test asserts there were none); closed on the way out."""
    bctx = browser.new_context(base_url=srv.url)
    bctx.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": srv.url}])
    page = bctx.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/")
        page.wait_for_selector('#board[aria-busy="false"]')
        yield page, errors
    finally:
        bctx.close()


@pytest.fixture
def context(browser: Any, server: Server) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server.url)
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def anon_page(context: Any) -> Iterator[Any]:
    """A page with no session cookie; fails the test on any uncaught script error."""
    page = context.new_page()
    errors: PageErrors = PageErrors()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(context: Any, anon_page: Any, server: Server) -> Any:
    """A signed-in page (the session cookie set as the login route would set it)."""
    context.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": server.url}])
    return anon_page


def open_board(page: Any, board: str = "default") -> None:
    """Open the dashboard on ``board`` (the selection the browser remembers) and wait for it."""
    page.add_init_script(
        f"if (!localStorage.getItem('agentkanban.board')) localStorage.setItem('agentkanban.board', {board!r})")
    page.goto("/")
    page.wait_for_selector('#board[aria-busy="false"]')
    page.wait_for_selector('#live-status[data-state="live"]')


def column(page: Any, status: str) -> Any:
    return page.locator(f'.column[data-status="{status}"]')


def card(page: Any, task_id: str) -> Any:
    return page.locator(f'.card[data-id="{task_id}"]')


def drag(page: Any, source: Any, target: Any) -> None:
    """A real pointer drag: press, move in steps, release over the target.

    Both boxes are measured once the board has settled: a live event may re-render the columns
    between finding an element and measuring it, which leaves no box for that instant."""
    s = wait_for(source.bounding_box)
    t = wait_for(target.bounding_box)
    page.mouse.move(s["x"] + s["width"] / 2, s["y"] + s["height"] / 2)
    page.mouse.down()
    page.mouse.move(s["x"] + s["width"] / 2 + 20, s["y"] + s["height"] / 2 + 10, steps=5)
    page.mouse.move(t["x"] + t["width"] / 2, t["y"] + 120, steps=15)
    page.mouse.up()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def services_ctx(server: Server, clock: Any = None) -> Any:
    """The service layer on the server's KANBAN_HOME, for setting up what the API cannot
    (a worker's attempts, a past clock); the server sees the same database."""
    from agentkanban.config import load_settings
    from agentkanban.services import open_ctx

    return open_ctx(load_settings(server.env), **({"clock": clock} if clock else {}))
