"""Our dashboard's Profiles dialog: descriptions stored for the orchestrator, and its settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Server, require_playwright, signed_in, start_server, stop_server, wait_for

expect = require_playwright()


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("profiles-home")
    (home / "config.yaml").write_text(
        "profiles:\n  coder:\n    command: [aider]\n  planner:\n    command: [/usr/bin/planner]\n")
    srv = start_server(home)
    try:
        yield srv
    finally:
        stop_server(srv)


def test_profile_descriptions_and_orchestrator(browser: Any, configured: Server) -> None:
    with signed_in(browser, configured) as (page, errors):
        page.locator("#profiles-btn").click()
        dialog = page.locator("#profiles-dialog")
        expect(dialog.locator('[data-profile="planner"]')).to_contain_text("planner")
        dialog.locator('[data-key="describe-coder"]').fill("writes Python")
        dialog.locator('[data-key="save-coder"]').click()
        wait_for(lambda: {p["name"]: p["description"] for p in configured.api("GET", "/api/profiles")["profiles"]}
                 ["coder"] == "writes Python")
        dialog.locator('[data-key="orchestrator_profile"]').select_option("planner")
        wait_for(lambda: configured.api("GET", "/api/orchestration")["orchestrator_profile"] == "planner")
        dialog.get_by_role("button", name="Close").click()
        page.reload()
        page.locator("#profiles-btn").click()
        expect(dialog.locator('[data-key="describe-coder"]')).to_have_value("writes Python")
        expect(dialog.locator('[data-key="orchestrator_profile"]')).to_have_value("planner")
        assert not errors
