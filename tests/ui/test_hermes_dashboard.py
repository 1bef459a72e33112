"""The reference dashboard's own frontend (hermes-agent 0.19.0, unmodified) against ``kanban serve``.

See ``tests/ui/hermes.py`` for how it is installed and served. Every check goes through the real
plugin UI in headless Chromium; the plugin's calls reach our server through a same-origin proxy.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import (
    TOKEN,
    Server,
    _free_port,
    require_playwright,
    start_server,
    stop_server,
    wait_for,
)
from .hermes import ProxyProcess, hermes_venv, start_dashboard

expect = require_playwright()


@pytest.fixture(scope="module")
def proxy_port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def kanban(tmp_path_factory: pytest.TempPathFactory, proxy_port: int) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("kanban-home")
    # Two worker profiles for the orchestration panel (no dispatcher runs them in this test), and
    # the dashboard's origin allowed, as an operator serving it in front of the board would.
    (home / "config.yaml").write_text(
        "profiles:\n  coder:\n    command: [aider, '{task_id}']\n  planner:\n    command: [planner]\n"
        f"serve:\n  allowed_origins: ['http://127.0.0.1:{proxy_port}']\n")
    srv = start_server(home)
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def origin(kanban: Server, tmp_path_factory: pytest.TempPathFactory,
           proxy_port: int) -> Iterator[ProxyProcess]:
    venv = hermes_venv()
    dash = start_dashboard(venv, tmp_path_factory.mktemp("hermes-home"), _free_port(), TOKEN)
    try:
        proxy = ProxyProcess(proxy_port, kanban.url, dash.url, kanban.home / "proxy-calls.log")
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
    """The reference dashboard's Kanban tab. At the end, the plugin must have logged no error: no
    uncaught exception, no console error, and no refused plugin API call the test did not ask for."""
    # Wide enough for its eight columns (ours add Review) and the trash beside them.
    ctx = browser.new_context(viewport={"width": 2800, "height": 1100}, base_url=origin.url,
                              accept_downloads=True)
    ctx.set_default_timeout(30_000)  # a wait bound on a loaded 2-core machine, not a timing check
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    # "Failed to load resource" lines are judged by their URL below: the host dashboard's own
    # /api/auth/me answers 401 on a loopback install, which is not the plugin's doing.
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400 and KANBAN_API in r.url and r.url not in page.expected_failures else None)
    page.problems = problems
    page.expected_failures = set()
    page.on("dialog", lambda d: d.accept(page.prompt_answer) if d.type == "prompt" else d.accept())
    page.prompt_answer = ""
    try:
        yield page
        assert not problems, f"the plugin reported errors: {problems}"
    finally:
        ctx.close()


KANBAN_API = "/api/plugins/kanban/"


def open_kanban(page: Any, board: str = "default") -> None:
    page.add_init_script(f"localStorage.setItem('hermes.kanban.selectedBoard', {board!r})")
    page.goto("/kanban")
    page.wait_for_selector("[data-kanban-column]")


def card(page: Any, tid: str) -> Any:
    return page.locator(f'[data-task-id="{tid}"]')


def column(page: Any, status: str) -> Any:
    return page.locator(f'[data-kanban-column="{status}"]')


def drawer(page: Any) -> Any:
    return page.locator(".hermes-kanban-drawer")


def open_drawer(page: Any, tid: str) -> Any:
    card(page, tid).locator(".hermes-kanban-card-title").click()
    d = drawer(page)
    expect(d.locator(".hermes-kanban-drawer-head")).to_contain_text(tid)
    return d


def close_drawer(page: Any) -> None:
    page.get_by_title("Close (Esc)").click()
    expect(drawer(page)).to_have_count(0)


def choose(page: Any, combobox: Any, option: str) -> None:
    """Pick ``option`` in one of the host SDK's select boxes (a combobox with a listbox)."""
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_board_renders_every_column_and_card(hpage: Any, kanban: Server) -> None:
    ids = {s: kanban.create(f"card in {s}", board="default", **kw)["id"] for s, kw in {
        "triage": {"triage": True}, "ready": {}}.items()}
    ids["todo"] = kanban.create("card in todo", assignee="bot", parents=[ids["ready"]])["id"]
    blocked = kanban.create("card in blocked")["id"]
    kanban.api("PATCH", f"/api/tasks/{blocked}", json={"status": "blocked", "block_reason": "why"})
    ids["scheduled"] = kanban.create("card in scheduled", scheduled_at=time.time() + 3600)["id"]
    done = kanban.create("card in done")["id"]
    kanban.api("PATCH", f"/api/tasks/{done}", json={"status": "done", "summary": "finished"})
    open_kanban(hpage)
    for status in ("triage", "todo", "scheduled", "ready", "running", "review", "blocked", "done"):
        expect(column(hpage, status)).to_be_visible()
    for status, tid in {**ids, "blocked": blocked, "done": done}.items():
        expect(column(hpage, status).locator(f'[data-task-id="{tid}"]')).to_be_visible()
    # the attention strip flags a task waiting for a profile nobody configured
    expect(hpage.locator(".hermes-kanban-attention-bar")).to_be_visible()


def test_drawer_edit_comment_dependencies_and_complete(hpage: Any, kanban: Server) -> None:
    tid = kanban.create("edit me")["id"]
    other = kanban.create("a parent to be")["id"]
    open_kanban(hpage)
    d = open_drawer(hpage, tid)
    d.locator(".hermes-kanban-drawer-title-text").click()
    title_input = d.locator(".hermes-kanban-drawer-title input")
    title_input.fill("edited title")
    title_input.press("Enter")
    expect(d.locator(".hermes-kanban-drawer-title-text")).to_have_text("edited title")
    assert kanban.task(tid)["task"]["title"] == "edited title"

    d.get_by_placeholder("Add a comment… (Enter to submit)").fill("a comment from Hermes")
    d.get_by_role("button", name="Comment", exact=True).click()
    expect(d.locator(".hermes-kanban-comment")).to_contain_text("a comment from Hermes")
    assert [c["body"] for c in kanban.task(tid)["comments"]] == ["a comment from Hermes"]

    choose(hpage, d.get_by_role("combobox").filter(has_text="— add parent —"), f"{other} — a parent to be")
    d.get_by_role("button", name="+ parent").click()
    expect(d.locator(".hermes-kanban-dep-chip")).to_contain_text(other)
    assert kanban.task(tid)["links"]["parents"] == [other]
    assert kanban.task(tid)["task"]["status"] == "todo"

    hpage.prompt_answer = "done by the test"
    close_drawer(hpage)
    d2 = open_drawer(hpage, other)
    d2.get_by_role("button", name="Complete", exact=True).click()
    expect(d2.locator(".hermes-kanban-drawer-meta")).to_contain_text("done")
    body = kanban.task(other)
    assert body["task"]["status"] == "done" and body["task"]["result"] == "done by the test"
    assert body["runs"][-1]["summary"] == "done by the test"
    # the child waited on it and is now ready
    assert kanban.task(tid)["task"]["status"] == "ready"


def test_drag_create_and_delete_from_trash(hpage: Any, kanban: Server) -> None:
    tid = kanban.create("drag me")["id"]
    doomed = kanban.create("delete me", triage=True)["id"]
    open_kanban(hpage)
    card(hpage, tid).drag_to(column(hpage, "triage"))
    expect(column(hpage, "triage").locator(f'[data-task-id="{tid}"]')).to_be_visible()
    wait_for(lambda: kanban.task(tid)["task"]["status"] == "triage")

    column(hpage, "ready").locator(".hermes-kanban-column-add").click()
    hpage.get_by_placeholder("New task title…").fill("made in Hermes")
    hpage.get_by_placeholder("New task title…").press("Enter")
    made = hpage.locator(".hermes-kanban-card-title", has_text="made in Hermes")
    expect(made).to_be_visible()
    titles = [t["title"] for t in kanban.api("GET", "/api/tasks")["tasks"]]
    assert "made in Hermes" in titles

    card(hpage, doomed).drag_to(hpage.locator("[data-kanban-trash]"))
    expect(card(hpage, doomed)).to_have_count(0)
    wait_for(lambda: kanban.client.get(f"/api/tasks/{doomed}").status_code == 404)


def test_bulk_reassign_with_reclaim_first(hpage: Any, kanban: Server) -> None:
    from .conftest import services_ctx

    a = kanban.create("bulk a", assignee="alice")["id"]
    b = kanban.create("bulk b", assignee="alice")["id"]
    kanban.create("someone else's", assignee="carol")
    ctx = services_ctx(kanban)
    from agentkanban.services import runs

    assert runs.claim(ctx, "default", a, profile="alice", lock="elsewhere:1:x", ttl=900)
    open_kanban(hpage)
    expect(column(hpage, "running").locator(f'[data-task-id="{a}"]')).to_be_visible()
    card(hpage, a).locator(".hermes-kanban-card-check").click()
    card(hpage, b).locator(".hermes-kanban-card-check").click()
    bulk = hpage.locator(".hermes-kanban-bulk")
    expect(bulk).to_be_visible()
    bulk.locator(".hermes-kanban-bulk-reclaim-first").click()
    choose(hpage, bulk.locator(".hermes-kanban-bulk-reassign").get_by_role("combobox"), "carol")
    bulk.locator(".hermes-kanban-bulk-reassign").get_by_role("button", name="Apply").click()
    expect(column(hpage, "ready").locator(f'[data-task-id="{a}"]')).to_be_visible()
    for tid in (a, b):
        wait_for(lambda tid=tid: (kanban.task(tid)["task"]["assignee"], kanban.task(tid)["task"]["status"])
                 == ("carol", "ready"))
    assert kanban.task(a)["runs"][-1]["outcome"] == "reclaimed"


def test_boards_switch_and_create_and_home_channel(hpage: Any, kanban: Server) -> None:
    kanban.new_board("side-project")
    there = kanban.create("on the side", board="side-project")["id"]
    here = kanban.create("at home")["id"]
    open_kanban(hpage)
    choose(hpage, hpage.locator(".hermes-kanban-boardswitcher").get_by_role("combobox").first,
           "Side Project · 1")
    expect(card(hpage, there)).to_be_visible()
    expect(card(hpage, here)).to_have_count(0)

    d = open_drawer(hpage, there)
    pill = d.locator(".hermes-kanban-home-subs").get_by_role("button", name="telegram")
    pill.click()
    wait_for(lambda: kanban.api("GET", "/api/home-channels", params={
        "task_id": there, "board": "side-project"})["home_channels"][0]["subscribed"])
    close_drawer(hpage)

    hpage.get_by_role("button", name="+ New board").first.click()
    dialog = hpage.locator(".hermes-kanban-dialog")
    dialog.get_by_placeholder("atm10-server").fill("from-hermes")
    dialog.get_by_role("button", name="Create board").click()
    expect(dialog).to_have_count(0)
    slugs = [b["slug"] for b in kanban.api("GET", "/api/boards")["boards"]]
    assert "from-hermes" in slugs
    expect(hpage.locator(".hermes-kanban-boardswitcher")).to_contain_text("From Hermes")
    kanban.api("POST", "/api/boards/default/switch")  # leave the server's current board as it was


def test_live_update_from_the_cli(hpage: Any, kanban: Server) -> None:
    import subprocess
    import sys

    open_kanban(hpage)
    # Events after the board's cursor reach the page whenever its WebSocket connects.
    out = subprocess.run([sys.executable, "-m", "agentkanban", "create", "typed in a terminal", "--json"],
                         env=kanban.env, capture_output=True, text=True, check=True)
    tid = json.loads(out.stdout)["task"]["id"]
    expect(column(hpage, "ready").locator(f'[data-task-id="{tid}"]')).to_contain_text("typed in a terminal")
    subprocess.run([sys.executable, "-m", "agentkanban", "move", tid, "triage"], env=kanban.env, check=True)
    expect(column(hpage, "triage").locator(f'[data-task-id="{tid}"]')).to_be_visible()


def test_child_results_attachments_and_orchestration(hpage: Any, kanban: Server, tmp_path: Any) -> None:
    parent = kanban.create("orchestrated parent")["id"]
    kid = kanban.create("child work")["id"]
    kanban.api("POST", "/api/links", board="default", json={"parent_id": parent, "child_id": kid})
    kanban.api("PATCH", f"/api/tasks/{parent}", board="default", json={"status": "done", "summary": "planned"})
    kanban.api("PATCH", f"/api/tasks/{kid}", board="default",
               json={"status": "done", "summary": "the child's findings"})
    open_kanban(hpage)
    d = open_drawer(hpage, parent)
    section = d.locator(".hermes-kanban-section", has_text="Child Results")
    expect(section).to_contain_text("the child's findings")
    expect(section).to_contain_text(kid)

    upload = tmp_path / "report.html"
    upload.write_bytes(b"<h1>not rendered</h1>")
    d.locator("input[type=file]").set_input_files(str(upload))
    row = d.locator(".hermes-kanban-section", has_text="Attachments (1)")
    expect(row).to_contain_text("report.html")
    with hpage.expect_download() as dl:
        row.get_by_text("report.html").click()
    saved = tmp_path / "downloaded"
    dl.value.save_as(saved)
    assert saved.read_bytes() == b"<h1>not rendered</h1>"
    att = kanban.task(parent)["attachments"][0]
    r = kanban.client.get(f"/api/attachments/{att['id']}")
    assert r.headers["content-type"] == "application/octet-stream"

    row.get_by_title("Remove attachment").click()
    expect(d.locator(".hermes-kanban-section", has_text="Attachments (0)")).to_be_visible()
    assert kanban.task(parent)["attachments"] == []
    close_drawer(hpage)


def test_specify_and_orchestration_panel(hpage: Any, kanban: Server) -> None:
    idea = kanban.create("rough idea", triage=True)["id"]
    open_kanban(hpage)
    d = open_drawer(hpage, idea)
    d.get_by_role("button", name="✨ Specify").click()
    expect(d).to_contain_text("Specify failed: no orchestrator profile is set")
    d.get_by_role("button", name="⚗ Decompose").click()
    expect(d).to_contain_text("Decompose failed: no orchestrator profile is set")
    assert kanban.task(idea)["task"]["status"] == "triage"
    close_drawer(hpage)

    hpage.get_by_text("▸ Orchestration settings").click()
    expect(hpage.get_by_text("Profile descriptions")).to_be_visible()
    choose(hpage, hpage.get_by_role("combobox").filter(has_text="(default: ").first, "planner")
    wait_for(lambda: kanban.api("GET", "/api/orchestration")["orchestrator_profile"] == "planner")
    expect(hpage.get_by_text("Resolved: planner")).to_be_visible()
    box = hpage.get_by_placeholder("What is this profile good at?").first
    box.fill("writes and reviews Python")
    hpage.get_by_role("button", name="Save", exact=True).first.click()
    wait_for(lambda: {p["name"]: p["description"] for p in kanban.api("GET", "/api/profiles")["profiles"]}
             ["coder"] == "writes and reviews Python")
    hpage.reload()
    hpage.get_by_text("▸ Orchestration settings").click()
    expect(hpage.get_by_placeholder("What is this profile good at?").first).to_have_value(
        "writes and reviews Python")
    kanban.api("PUT", "/api/orchestration", json={"orchestrator_profile": ""})


def test_run_history_shows_whole_seconds(hpage: Any, kanban: Server) -> None:
    from agentkanban.services import Actor, runs, transitions

    from .conftest import services_ctx

    tid = kanban.create("ran once", assignee="coder")["id"]
    ctx = services_ctx(kanban)
    assert runs.claim(ctx, "default", tid, profile="coder", lock="elsewhere:1:x", ttl=900)
    transitions.complete(ctx, "default", tid, actor=Actor("user"), summary="ran")
    open_kanban(hpage)
    d = open_drawer(hpage, tid)
    expect(d.locator(".hermes-kanban-run-elapsed").first).to_have_text(re.compile(r"^\d+s$"), timeout=3000)
