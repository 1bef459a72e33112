"""A board of 2,000 tasks renders in the browser in well under a second; the figures go to
bench/ui.md."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from pathlib import Path

import pytest

from agentkanban.config import load_settings
from agentkanban.services import Actor, open_ctx, transitions
from agentkanban.services import tasks as task_service

from .conftest import open_board

N = 2000
BENCH = Path(__file__).resolve().parents[2] / "bench" / "ui.md"


def _seed(server, board: str) -> None:
    ctx = open_ctx(load_settings(server.env))
    actor = Actor(name="bench")
    roots: list[str] = []
    for i in range(N):
        # Spread the board over the columns: 10% triage, 30% todo (waiting on a triage task),
        # 30% ready, 10% blocked, 20% done.
        kind = i % 10
        t = task_service.create(
            ctx, board, title=f"Task number {i} with a realistic, longer title to wrap", actor=actor,
            body=f"Body of task {i}", assignee=f"worker-{i % 7}", priority=i % 4,
            tenant=f"tenant-{i % 3}", triage=(kind == 0),
            parents=[roots[-1]] if kind in (1, 2, 3) else []).task
        if kind == 0:
            roots.append(t.id)
        elif kind == 7:
            transitions.block(ctx, board, t.id, actor=actor, reason="waiting")
        elif kind in (8, 9):
            transitions.complete(ctx, board, t.id, actor=actor, result="done", summary="done")


def _wait_painted(page, timeout: float = 60.0) -> None:
    """Poll for the mark with plain evaluations: wait_for_function evaluates a string with eval,
    which the dashboard's Content-Security-Policy (rightly) refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate("performance.getEntriesByName('board-painted').length > 0"):
        assert time.monotonic() < deadline, "the board was never painted"
        time.sleep(0.01)


def _last_mark(page, name: str) -> float:
    return page.evaluate(f"performance.getEntriesByName('{name}').at(-1).startTime")


@pytest.mark.slow
def test_two_thousand_tasks_render_under_a_second(page, server):
    board = server.new_board("perf")
    _seed(server, board)
    open_board(page, board)
    page.wait_for_timeout(1000)  # let the server finish digesting the bulk insert
    loads = []
    for _ in range(3):
        page.reload()
        _wait_painted(page)
        loads.append(_last_mark(page, "board-painted"))
    load_ms = statistics.median(loads)
    counts = page.locator(".col-count").all_inner_texts()
    assert sum(int(c) for c in counts) == N
    names = page.locator(".col-head h2").all_inner_texts()
    columns = ", ".join(f"{int(c):,} {n.lower()}" for n, c in zip(names, counts, strict=True) if int(c))
    rendered_first = page.locator(".card").count()
    # Scrolling a long column renders the rest of it.
    col = page.locator('.col-body[data-status="ready"]')
    ready_total = int(page.locator('.column[data-status="ready"] .col-count').inner_text())
    for _ in range(200):  # each step may fetch the column's next page from the server
        col.evaluate("b => b.scrollTop = b.scrollHeight")
        page.wait_for_timeout(50)
        if col.locator(".card").count() == ready_total:
            break
    assert col.locator(".card").count() == ready_total
    # A full re-render from the API (what Refresh and a live update do), timed in the page.
    refreshes = []
    for _ in range(3):
        page.evaluate("performance.clearMarks()")
        started = page.evaluate("performance.now()")
        page.click("#refresh-btn")
        _wait_painted(page)
        refreshes.append(_last_mark(page, "board-painted") - started)
    refresh_ms = statistics.median(refreshes)
    # For comparison: every card in the page at once (each column expanded to its end).
    all_ms = page.evaluate(
        """() => new Promise((done) => {
            const t0 = performance.now();
            const step = () => {
                // Click every enabled "more"; a disabled one is fetching its column's next page.
                let more;
                while ((more = document.querySelector('.col-more:not([disabled])'))) more.click();
                if (document.querySelector('.col-more')) return setTimeout(step, 10);
                requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
            };
            step();
        })"""
    )
    assert page.locator(".card").count() == N
    # Filtering re-renders from memory.
    page.evaluate("performance.clearMarks()")
    started = page.evaluate("performance.now()")
    page.fill("#search", "tenant-1")
    _wait_painted(page)
    filter_ms = _last_mark(page, "board-painted") - started - 120  # minus the typing debounce
    version = page.context.browser.version
    BENCH.parent.mkdir(exist_ok=True)
    BENCH.write_text(
        "# Dashboard render time\n\n"
        f"Measured by `tests/ui/test_perf.py` on {dt.date.today().isoformat()}: a board of {N:,} tasks "
        f"({columns}), headless Chromium {version}, "
        f"{os.cpu_count()} CPU cores shared with the server (load average {os.getloadavg()[0]:.1f} "
        "at the time: the machine runs other work too, so figures vary from run to run).\n\n"
        "| measurement | ms |\n|---|---:|\n"
        f"| page load to the board painted (HTML, modules, `/api/boards`, `/api/board/page`, DOM), median of 3 | {load_ms:.0f} |\n"
        f"| Refresh: `/api/board/page` fetched again and the board re-rendered, median of 3 | {refresh_ms:.0f} |\n"
        f"| search filter applied to the loaded cards (then read again from the server) | {max(filter_ms, 0):.0f} |\n"
        f"| for comparison: expanding every column so all {N:,} cards are in the page | {all_ms:.0f} |\n\n"
        f"On load {rendered_first} cards are in the page (the server sends each column's first 100\n"
        "with its exact count; up to 60 per column are rendered and 200 more each time a column is\n"
        "scrolled near its end, its next page fetched from the server as needed). Cards are built from a cloned template into a DocumentFragment, cached\n"
        "by id and rebuilt only when what they show changes; off-screen cards skip layout and paint\n"
        "(`content-visibility`). The time includes the server building the `/api/board/page`\n"
        "answer.\n"
    )
    assert load_ms < 1000, f"2,000-task board took {load_ms:.0f} ms to paint"
    assert refresh_ms < 2000, f"refreshing the 2,000-task board took {refresh_ms:.0f} ms"  # sanity bound
