"""Spending on the dashboard: the header's "spent today", a held card's reason, the drawer's usage."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml

from agentkanban.services import Actor, runs
from agentkanban.services import usage as usage_svc

from .conftest import (
    TOKEN,
    Server,
    card,
    open_board,
    require_playwright,
    services_ctx,
    start_server,
    stop_server,
)

expect = require_playwright()


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("kanban-costs")
    (home / "config.yaml").write_text(yaml.safe_dump(
        {"budgets": {"profiles": {"coder": {"daily_usd": 1}}}}))
    srv = start_server(home)
    try:
        yield srv
    finally:
        stop_server(srv)


def test_spent_today_held_card_and_drawer_usage(browser, budget_server):
    srv = budget_server
    spent = srv.create("spent", assignee="coder")
    waiting = srv.create("waiting", assignee="coder")
    free = srv.create("free", assignee="writer")
    ctx = services_ctx(srv)
    claim = runs.claim(ctx, "default", spent["id"], profile="coder", lock="h:1:x", ttl=900)
    assert claim is not None
    usage_svc.record(ctx, "default", spent["id"], actor=Actor("user"), input_tokens=12000,
                     output_tokens=800, cost_usd=1.25, model="m")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=srv.url)
    context.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": srv.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        open_board(page)
        expect(page.locator("#spent-today")).to_have_text("spent today $1.25")
        held = card(page, waiting["id"]).locator(".badge.held")
        expect(held).to_have_text("budget reached")
        expect(held).to_have_attribute("title", re.compile(r"^profile coder: daily budget reached \(\$1\.25 of \$1\.00\)"))
        expect(card(page, free["id"]).locator(".badge.held")).to_have_count(0)
        card(page, spent["id"]).locator(".card-title").click()
        usage = page.locator("#drawer .usage-section")
        expect(usage.locator(".usage-total")).to_have_text("$1.25")
        expect(usage).to_contain_text("12.8k tokens")
    finally:
        context.close()
    assert not errors, errors
