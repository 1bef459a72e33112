"""The task drawer: editing, comments, home-channel pills, dependencies, and safe markdown."""

from __future__ import annotations

from .conftest import card, open_board, require_playwright, services_ctx, wait_for

expect = require_playwright()

HOSTILE = (
    '<img src=x onerror="window.__pwned=1">\n\n'
    "[click me](javascript:window.__pwned=2)\n\n"
    "[sneaky](JaVaScRiPt:alert(1)) and [data](data:text/html,<script>alert(1)</script>)\n\n"
    "<script>window.__pwned=3</script>\n\n"
    '<a href="javascript:alert(1)" onclick="alert(1)">raw link</a> <svg onload=alert(1)>\n\n'
    "**bold** [fine](https://example.com/docs)"
)


def open_drawer(page, task_id):
    card(page, task_id).locator(".card-title").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_have_attribute("aria-modal", "true")
    expect(drawer).to_have_attribute("role", "dialog")
    return drawer


def test_edit_title_and_add_a_comment(page, server):
    board = server.new_board("drawer-edit")
    t = server.create("Old title", board=board, body="Some *context*")
    open_board(page, board)
    drawer = open_drawer(page, t["id"])
    expect(drawer.locator(".body-view em")).to_have_text("context")
    drawer.locator("#drawer-title").click()
    field = drawer.locator('[data-key="title-input"]')
    field.fill("New title")
    field.press("Enter")
    expect(drawer.locator("#drawer-title")).to_have_text("New title")
    wait_for(lambda: server.task(t["id"], board)["task"]["title"] == "New title")
    expect(card(page, t["id"]).locator(".card-title")).to_have_text("New title")

    composer = drawer.locator('[data-key="composer"]')
    composer.fill("Looks **good** to me")
    composer.press("Enter")
    expect(drawer.locator(".comment")).to_have_count(1)
    expect(drawer.locator(".comment strong", has_text="good")).to_be_visible()
    comments = server.task(t["id"], board)["comments"]
    assert [c["body"] for c in comments] == ["Looks **good** to me"]
    expect(card(page, t["id"]).locator(".card-counts")).to_contain_text("1")

    # Assignee and priority are editable in place too.
    drawer.locator('[data-key="priority"]').click()
    drawer.locator('[data-key="priority-input"]').fill("7")
    drawer.locator('[data-key="priority-input"]').press("Enter")
    expect(drawer.locator('[data-key="priority"]')).to_have_text("7")
    drawer.locator('[data-key="assignee"]').click()
    drawer.locator('[data-key="assignee-input"]').fill("coder")
    drawer.locator('[data-key="assignee-input"]').press("Enter")
    wait_for(lambda: server.task(t["id"], board)["task"]["assignee"] == "coder")
    assert server.task(t["id"], board)["task"]["priority"] == 7
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()


def test_status_actions_follow_the_status(page, server):
    board = server.new_board("drawer-status")
    t = server.create("Block me", board=board)
    open_board(page, board)
    drawer = open_drawer(page, t["id"])
    expect(drawer.locator('[data-action="unblock"]')).to_have_count(0)
    drawer.locator('[data-action="blocked"]').click()
    page.locator("#ask-input").fill("waiting for keys")
    page.locator("#ask-ok").click()
    expect(drawer.locator(".status-pill").first).to_have_text("Blocked")
    expect(drawer.locator(".meta")).to_contain_text("waiting for keys")
    assert server.task(t["id"], board)["task"]["status"] == "blocked"
    drawer.locator('[data-action="unblock"]').click()
    expect(drawer.locator(".status-pill").first).to_have_text("Ready")
    assert server.task(t["id"], board)["task"]["status"] == "ready"


def test_home_channel_pill_toggles_the_subscription(page, server):
    board = server.new_board("drawer-home")
    t = server.create("Tell me when done", board=board)

    def subscribed() -> bool:
        homes = server.api("GET", "/api/home-channels", board=board, params={"task_id": t["id"]})
        (telegram,) = [h for h in homes["home_channels"] if h["platform"] == "telegram"]
        return bool(telegram["subscribed"])

    open_board(page, board)
    drawer = open_drawer(page, t["id"])
    pill = drawer.locator('.home-pill[data-platform="telegram"]')
    expect(pill).to_have_attribute("aria-pressed", "false")
    pill.click()
    expect(pill).to_have_attribute("aria-pressed", "true")
    wait_for(subscribed)
    pill.click()
    expect(pill).to_have_attribute("aria-pressed", "false")
    wait_for(lambda: not subscribed())


def test_dependency_editor_adds_and_removes_parents(page, server):
    board = server.new_board("drawer-deps")
    parent = server.create("Parent task", board=board)
    child = server.create("Child task", board=board)
    open_board(page, board)
    drawer = open_drawer(page, child["id"])
    add = drawer.locator('[data-key="dep-parents-input"]')
    add.fill(parent["id"])
    add.press("Enter")
    wait_for(lambda: server.task(child["id"], board)["links"]["parents"] == [parent["id"]])
    expect(drawer.locator(".picker").first.locator(".chip")).to_contain_text("Parent task")
    # A ready child that gains an unfinished parent waits in todo.
    expect(card(page, child["id"])).to_have_attribute("data-status", "todo")
    drawer.locator(f'[data-key="dep-parents-x-{parent["id"]}"]').click()
    wait_for(lambda: server.task(child["id"], board)["links"]["parents"] == [])


def test_hostile_markdown_renders_inert(page, server):
    board = server.new_board("hostile")
    t = server.create('<img src=x onerror="window.__pwned=9">', board=board, body=HOSTILE)
    server.api("POST", f"/api/tasks/{t['id']}/comments", board=board, json={"body": HOSTILE})
    server.api("PATCH", f"/api/tasks/{t['id']}", board=board,
               json={"status": "done", "result": HOSTILE, "summary": HOSTILE})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_board(page, board)
    drawer = open_drawer(page, t["id"])
    expect(drawer.locator(".result")).to_be_visible()
    expect(drawer.locator(".comment")).to_have_count(1)
    expect(drawer.locator(".body-view .md-unsafe-link").first).to_be_visible()
    page.wait_for_timeout(300)
    found = page.evaluate(
        """() => {
        const all = [...document.querySelectorAll('*')];
        return {
          handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).map(e => e.outerHTML),
          badLinks: [...document.querySelectorAll('[href],[src],[action],[formaction]')]
            .map(e => e.getAttribute('href') || e.getAttribute('src') || '')
            .filter(v => /^\\s*(javascript|data|vbscript):/i.test(v)),
          scripts: [...document.querySelectorAll('script')].filter(s => !s.src.endsWith('/static/js/main.js')).length,
          injected: document.querySelectorAll('#drawer img, #drawer svg:not(.count svg), #board img').length,
          pwned: window.__pwned || 0,
          goodLink: document.querySelector('#drawer .body-view a[href="https://example.com/docs"]')?.rel,
        };
    }"""
    )
    assert found["handlers"] == []
    assert found["badLinks"] == []
    assert found["scripts"] == 0
    assert found["injected"] == 0
    assert found["pwned"] == 0
    assert dialogs == []
    assert "noopener" in found["goodLink"]
    # The hostile text is shown, as text.
    expect(drawer.locator("#drawer-title")).to_have_text('<img src=x onerror="window.__pwned=9">')
    expect(drawer.locator(".body-view")).to_contain_text("<script>window.__pwned=3</script>")


def test_run_history_events_and_worker_log(page, server):
    from agentkanban.services import boards, runs

    board = server.new_board("drawer-runs")
    t = server.create("Worked on", board=board, assignee="coder")
    ctx = services_ctx(server)
    first = runs.claim(ctx, board, t["id"], profile="coder", lock="host:1", ttl=600)
    runs.end_attempt(ctx, board, t["id"], first.run_id, outcome="crashed", error="exit code 137",
                     count_failure=True, failure_limit=5)
    runs.claim(ctx, board, t["id"], profile="coder", lock="host:2", ttl=600)
    server.api("PATCH", f"/api/tasks/{t['id']}", board=board,
               json={"status": "done", "result": "All **green**", "summary": "Shipped it",
                     "metadata": {"tests": 42}})
    log = boards.logs_dir(ctx, board) / f"{t['id']}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("first line of output\n")

    open_board(page, board)
    drawer = open_drawer(page, t["id"])
    expect(drawer.locator(".result strong")).to_have_text("green")
    runs_list = drawer.locator(".run")
    expect(runs_list).to_have_count(2)
    expect(runs_list.nth(0)).to_contain_text("completed")
    expect(runs_list.nth(0)).to_contain_text("@coder")
    expect(runs_list.nth(0)).to_contain_text("Shipped it")
    expect(runs_list.nth(0).locator(".run-meta")).to_contain_text('"tests": 42')
    expect(runs_list.nth(1)).to_contain_text("crashed")
    expect(runs_list.nth(1).locator(".run-error")).to_have_text("exit code 137")
    drawer.locator('[data-key="events-summary"]').click()
    expect(drawer.locator(".events .event-kind", has_text="completed")).to_be_visible()
    drawer.locator('[data-key="log-summary"]').click()
    expect(drawer.locator(".log")).to_have_text("first line of output\n")
    with log.open("a") as fh:
        fh.write("second line\n")
    drawer.locator('[data-key="log-refresh"]').click()
    expect(drawer.locator(".log")).to_contain_text("second line")


def test_the_address_names_the_open_task(page, server):
    board = server.new_board("drawer-link")
    t = server.create("Linkable", board=board)
    open_board(page, board)
    open_drawer(page, t["id"])
    assert page.evaluate("location.hash") == f"#{t['id']}"
    page.reload()
    expect(page.locator("#drawer-title")).to_have_text("Linkable")
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).to_be_hidden()
    assert page.evaluate("location.hash") == ""
