"""The reference dashboard's own frontend (hermes-agent 0.19.0, unmodified) against ``kanban serve``.

See ``tests/ui/hermes.py`` for how it is installed and served. Every check goes through the real
plugin UI in headless Chromium; the plugin's calls reach our server through a same-origin proxy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import TOKEN, Server, _free_port, require_playwright, start_server, stop_server
from .hermes import ProxyProcess, hermes_venv, start_dashboard

expect = require_playwright()


@pytest.fixture(scope="module")
def kanban(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("kanban-home"))
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def origin(kanban: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    venv = hermes_venv()
    dash = start_dashboard(venv, tmp_path_factory.mktemp("hermes-home"), _free_port(), TOKEN)
    try:
        proxy = ProxyProcess(_free_port(), kanban.url, dash.url, kanban.home / "proxy-calls.log")
    except BaseException:
        dash.stop()
        raise
    try:
        yield proxy
    finally:
        proxy.stop()
        dash.stop()


@pytest.fixture
def hpage(browser: Any, origin: ProxyProcess) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=origin.url,
                              accept_downloads=True)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.problems = problems
    try:
        yield page
    finally:
        ctx.close()


def test_smoke(hpage: Any, kanban: Server, origin: ProxyProcess) -> None:
    kanban.create("first task")
    hpage.goto("/kanban")
    hpage.wait_for_timeout(5000)
    hpage.screenshot(path="/tmp/hermes-smoke.png", full_page=True)
    print(origin.calls())
    print(hpage.problems)
