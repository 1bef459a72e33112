"""Running work is visible: the card's elapsed time ticks, the worker's last note, its age and its
progress appear as it reports them; the drawer follows the log and lists the checkpoint notes."""

from __future__ import annotations

import re

from agentkanban.services import Actor, runs, tasks
from agentkanban.services import boards as boards_svc

from .conftest import card, open_board, require_playwright, services_ctx

expect = require_playwright()


def test_running_card_and_drawer_update_live(page, server):
    board = server.new_board("running-live")
    ctx = services_ctx(server)
    t = tasks.create(ctx, board, title="Port the parser", actor=Actor("alice"), assignee="coder").task
    claim = runs.claim(ctx, board, t.id, profile="coder", lock="ui:1", ttl=3600)
    assert claim is not None
    worker = Actor("coder", worker_task=t.id, run_id=claim.run_id, run_token=claim.token)
    open_board(page, board)
    c = card(page, t.id)
    elapsed = c.locator(".card-elapsed")
    expect(elapsed).to_have_text(re.compile(r"^\d+s$"))
    first = int(elapsed.inner_text().rstrip("s"))
    # The elapsed time moves by itself, with nothing written to the board.
    expect(elapsed).not_to_have_text(f"{first}s", timeout=3000)
    expect(c.locator(".card-bar")).to_have_count(0)

    runs.heartbeat(ctx, board, t.id, actor=worker, note="step 3 of 12", progress="3/12")
    expect(c.locator(".card-note")).to_have_text("step 3 of 12")
    expect(c.locator(".card-note-age")).to_have_text(re.compile(r"^\d+s ago$"))
    expect(c.locator(".card-bar")).to_have_attribute("value", "3")
    expect(c.locator(".card-bar-label")).to_have_text("3/12")
    runs.heartbeat(ctx, board, t.id, actor=worker, note="step 4 of 12", progress="4/12")
    expect(c.locator(".card-note")).to_have_text("step 4 of 12")
    expect(c.locator(".card-bar-label")).to_have_text("4/12")

    # The drawer: the attempt's notes, newest first, and the log following as it grows.
    log = boards_svc.logs_dir(ctx, board) / f"{t.id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("reading the grammar\n")
    c.locator(".card-title").click()
    drawer = page.locator("#drawer")
    expect(drawer.locator(".checkpoint-note")).to_have_text(["step 4 of 12", "step 3 of 12"])
    expect(drawer.locator(".run-progress .card-bar-label")).to_have_text("4/12")
    expect(drawer.locator(".log")).to_contain_text("reading the grammar")
    with log.open("a") as f:
        f.write("tokenizer done\n")
    expect(drawer.locator(".log")).to_contain_text("tokenizer done", timeout=5000)
    expect(drawer.locator(".log-note")).to_contain_text("following")
    ticking = drawer.locator(".run-elapsed .ticking")
    before = ticking.inner_text()
    expect(ticking).not_to_have_text(before, timeout=3000)
