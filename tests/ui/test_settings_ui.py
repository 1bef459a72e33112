"""The Settings view: a profile's command and running task, a cap changed and kept in
config.yaml, the dispatcher's state, a board's defaults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentkanban.services import Actor, runs, tasks

from .conftest import Server, require_playwright, services_ctx, signed_in, start_server, stop_server, wait_for

expect = require_playwright()

CONFIG = """\
# workers of the team
profiles:
  coder:
    command: [claude, -p, "{task_id}"]  # the worker
    max_concurrency: 2
    env: {API_KEY: sk-ui-secret}
"""


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("settings-home")
    (home / "config.yaml").write_text(CONFIG)
    srv = start_server(home)
    try:
        yield srv
    finally:
        stop_server(srv)


def test_settings_view_shows_and_changes_caps(browser: Any, configured: Server) -> None:
    ctx = services_ctx(configured)
    t = tasks.create(ctx, "default", title="Port the parser", actor=Actor("user"), assignee="coder").task
    assert runs.claim(ctx, "default", t.id, profile="coder", lock="ui:1", ttl=3600) is not None
    with signed_in(browser, configured) as (page, errors):
        page.locator("#settings-btn").click()
        dialog = page.locator("#settings-dialog")
        row = dialog.locator('[data-profile="coder"]')
        expect(row.locator(".profile-command")).to_have_text('claude -p {task_id}')
        expect(row.locator(".running-task")).to_have_text(f"{t.id} (default)")
        expect(row).to_contain_text("env: API_KEY")
        expect(dialog).not_to_contain_text("sk-ui-secret")
        expect(dialog.locator('[data-loop="Dispatcher"]')).to_contain_text("stopped")  # --no-dispatch
        expect(dialog.locator('[data-platform="telegram"]')).to_contain_text("usable")
        expect(dialog.locator('[data-board="default"]')).to_be_visible()
        expect(dialog).to_contain_text("config.yaml")

        row.locator('[data-key="cap-coder"]').fill("5")
        row.locator('[data-key="save-cap-coder"]').click()
        wait_for(lambda: configured.api("GET", "/api/settings")["profiles"][0]["max_concurrency"] == 5)
        text = (configured.home / "config.yaml").read_text()
        assert text == CONFIG.replace("max_concurrency: 2", "max_concurrency: 5")

        dialog.locator('[data-key="workdir-default"]').fill("/srv/repo")
        dialog.locator('[data-key="kind-default"]').select_option("dir")
        dialog.locator('[data-key="save-board-default"]').click()
        wait_for(lambda: configured.api("GET", "/api/settings")["boards"][0]["default_workdir"] == "/srv/repo")

        dialog.get_by_role("button", name="Close").click()
        page.reload()
        page.locator("#settings-btn").click()
        expect(row.locator('[data-key="cap-coder"]')).to_have_value("5")
        expect(dialog.locator('[data-key="kind-default"]')).to_have_value("dir")

        row.locator(".running-task").click()  # opens the task's drawer
        expect(page.locator("#drawer")).to_contain_text("Port the parser")
        assert not errors
