"""Every card that is not moving says why, in the server's words, for each cause there is."""

from __future__ import annotations

import time

from agentkanban.domain.models import OUTCOME_CRASHED, OUTCOME_RATE_LIMITED
from agentkanban.services import Actor, health, runs, tasks, transitions

from .conftest import card, open_board, require_playwright, services_ctx, start_server, stop_server

expect = require_playwright()

CONFIG = """\
profiles:
  coder: {command: ["true"], max_concurrency: 2}
  reviewer: {command: ["true"], max_concurrency: 5}
  tester: {command: ["true"], max_concurrency: 5}
dispatch: {max_in_progress: 3, failure_limit: 3}
budgets:
  boards:
    broke: {daily_usd: 0}
"""
USER = Actor("alice")


def test_each_cause_reads_on_its_card(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(CONFIG)
    srv = start_server(home)
    try:
        ctx = services_ctx(srv)
        for b in ("capped", "broke", "slow"):
            srv.new_board(b)

        board_of: dict[str, str] = {}

        def new(title, board="default", **kw):
            tid = tasks.create(ctx, board, title=title, actor=USER, **kw).task.id
            board_of[tid] = board
            return tid

        def claim(tid, profile="coder", board="default"):
            c = runs.claim(ctx, board, tid, profile=profile, lock="ui:1", ttl=3600)
            assert c is not None
            return c

        expected: dict[str, str] = {}
        waiting = new("Waits for nobody", assignee="reviewer")
        expected[new("Intro", assignee="writer")] = "no profile named writer (profiles: coder, reviewer, tester)"
        expected[new("Nobody's")] = "no assignee (profiles: coder, reviewer, tester)"
        expected[new("An idea", triage=True)] = "in triage: move it to ready to start"
        expected[new("Later", assignee="tester", scheduled_at=time.time() + 86400 * 3)] = "scheduled for "
        parent = new("Design schema", assignee="reviewer")
        transitions.block(ctx, "default", parent, actor=Actor("bob"), reason="needs a decision")
        expected[parent] = "blocked by bob: needs a decision"
        expected[new("Build", assignee="coder", parents=[parent])] = f"waiting for parent {parent}: Design schema"
        for i in range(2):
            claim(new(f"running {i}", assignee="coder"))
        expected[new("Third coder task", assignee="coder")] = "coder at its limit of 2"
        for i in range(3):
            claim(new(f"review {i}", board="capped", assignee="reviewer"), "reviewer", "capped")
        expected[new("One too many", board="capped", assignee="reviewer")] = "board at its limit of 3"
        expected[new("Costly", board="broke", assignee="reviewer")] = "budget reached"
        retried = new("Flaky", board="broke", assignee="coder")
        gave_up = new("Hopeless", board="capped", assignee="coder")
        limited = new("Throttled", board="slow", assignee="reviewer")
        backing_off = new("Crashed once", board="slow", assignee="tester")
        for tid, board, n, outcome in ((retried, "broke", 1, OUTCOME_CRASHED),
                                       (gave_up, "capped", 3, OUTCOME_CRASHED),
                                       (limited, "slow", 1, OUTCOME_RATE_LIMITED),
                                       (backing_off, "slow", 1, OUTCOME_CRASHED)):
            for _ in range(n):
                profile = {limited: "reviewer", backing_off: "tester"}.get(tid, "coder")
                c = claim(tid, profile=profile, board=board)
                runs.end_attempt(ctx, board, tid, c.run_id, outcome=outcome, error="exit 2",
                                 count_failure=outcome == OUTCOME_CRASHED, failure_limit=3)
        expected[gave_up] = "gave up after 3 failed attempts: exit 2"
        expected[limited] = "cooling down after a rate limit, next try"
        expected[backing_off] = "retry 2 of 3 at "
        expected[retried] = "budget reached"  # the board's budget comes before its retry

        page = browser.new_page(base_url=srv.url, viewport={"width": 1600, "height": 1000})
        page.context.add_cookies([{"name": "kanban_token", "value": srv.token, "url": srv.url}])
        # No dispatcher has passed yet: a ready task that could start says so.
        open_board(page, "default")
        expect(card(page, waiting).locator(".card-why")).to_have_text("no dispatcher running")
        health.record_dispatcher_tick(ctx, {})
        for board in ("default", "capped", "broke", "slow"):
            page.evaluate(f"localStorage.setItem('agentkanban.board', {board!r})")
            page.reload()
            page.wait_for_selector('#board[aria-busy="false"]')
            for tid, text in expected.items():
                if board_of[tid] != board:
                    continue
                found = srv.task(tid, board=board)
                assert found["task"]["why"]["text"].startswith(text), (found["task"]["why"], text)
                expect(card(page, tid).locator(".card-why")).to_have_text(found["task"]["why"]["text"])
        page.evaluate("localStorage.setItem('agentkanban.board', 'default')")
        page.reload()
        page.wait_for_selector('#board[aria-busy="false"]')
        expect(card(page, waiting).locator(".card-why")).to_have_count(0)  # it can start: no reason
        card(page, parent).locator(".card-title").click()
        expect(page.locator("#drawer .why")).to_have_text("blocked by bob: needs a decision")
        page.close()
    finally:
        stop_server(srv)
