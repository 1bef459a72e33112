"""Browser tests: Debian's Chromium driven by Playwright against a real ``kanban serve``.

The server runs as a subprocess on a free port with its own KANBAN_HOME and token. With CI=true a
missing Chromium (or Playwright) fails the tests; otherwise they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("KANBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TOKEN = "ui-test-token-0123456789"



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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    token: str = TOKEN
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, cookies={"kanban_token": self.token}, timeout=30)

    def api(self, method: str, path: str, *, board: str | None = None, **kw: Any) -> Any:
        params = dict(kw.pop("params", {}) or {})
        if board:
            params["board"] = board
        r = self.client.request(method, path, params=params, **kw)
        assert r.status_code < 400, f"{method} {path} -> {r.status_code}: {r.text}"
        return r.json()

    def create(self, title: str, *, board: str = "default", **fields: Any) -> dict[str, Any]:
        return self.api("POST", "/api/tasks", board=board, json={"title": title, **fields})["task"]  # type: ignore[no-any-return]

    def task(self, task_id: str, board: str = "default") -> dict[str, Any]:
        return self.api("GET", f"/api/tasks/{task_id}", board=board)  # type: ignore[no-any-return]

    def new_board(self, slug: str) -> str:
        self.api("POST", "/api/boards", json={"slug": slug, "name": slug.replace("-", " ").title()})
        return slug


def start_server(home: Path, port: int | None = None, token: str = TOKEN, *,
                 dispatch: bool = False) -> Server:
    """Start ``kanban serve`` on ``home`` and wait until /healthz answers (with its dispatcher
    when ``dispatch``)."""
    port = port or _free_port()
    env = {
        **os.environ,
        "KANBAN_HOME": str(home),
        "KANBAN_TOKEN": token,
        # A home channel for the notification pills; --no-notify means nothing is ever sent.
        "TELEGRAM_BOT_TOKEN": "x",
        "TELEGRAM_HOME_CHANNEL": "123",
    }
    log = home / f"server-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentkanban", "serve", "--host", "127.0.0.1", "--port", str(port),
             *([] if dispatch else ["--no-dispatch"]), "--no-notify"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"kanban serve exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            pytest.fail(f"kanban serve did not answer /healthz:\n{log.read_text()}", pytrace=False)
        time.sleep(0.1)
    return Server(url=url, home=home, env=env, proc=proc, log=log, token=token)


def stop_server(srv: Server) -> None:
    srv.client.close()
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait(timeout=10)


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
