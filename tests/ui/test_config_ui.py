"""A running `kanban serve` follows config.yaml: a profile added while serving runs its waiting task
within seconds; a broken file shows a banner and the configuration before stays in force."""

from __future__ import annotations

import sys

import httpx
import yaml

from .conftest import card, column, open_board, require_playwright, start_server, stop_server, wait_for

expect = require_playwright()



def config(*profiles: str) -> str:
    return yaml.safe_dump({
        # A served board's workers reach it over HTTP: the `kanban` verb, not the database.
        "profiles": {p: {"command": [sys.executable, "-m", "agentkanban", "complete", "--summary",
                                     "done"]} for p in profiles},
        "dispatch": {"interval_seconds": 0.5}})


def test_config_changes_take_effect_while_serving(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(config("coder"))
    srv = start_server(home, dispatch=True)
    try:
        page = browser.new_page(base_url=srv.url, viewport={"width": 1440, "height": 900})
        page.context.add_cookies([{"name": "kanban_token", "value": srv.token, "url": srv.url}])
        t = srv.create("Write the intro", assignee="writer")
        open_board(page)
        expect(card(page, t["id"]).locator(".card-why")).to_have_text(
            "no profile named writer (profiles: coder)")
        # The profile is added while the server runs: its waiting task runs within seconds.
        (home / "config.yaml").write_text(config("coder", "writer"))
        expect(column(page, "done").locator(f'.card[data-id="{t["id"]}"]')).to_be_visible(timeout=15_000)
        expect(page.locator("#config-banner")).to_be_hidden()

        # A broken file: a banner with the start-up error; the configuration before stays.
        (home / "config.yaml").write_text("profiles:\n  editor: {command: [x]\n")
        banner = page.locator("#config-banner")
        expect(banner).to_be_visible(timeout=10_000)
        expect(banner).to_contain_text("config.yaml was not reloaded")
        expect(banner).to_contain_text("not valid YAML")
        health = httpx.get(f"{srv.url}/healthz").json()["config"]
        assert health["ok"] is False and "not valid YAML" in health["error"]
        # The profiles in force are still the ones before: the card says so.
        again = srv.create("Edit it", assignee="editor")
        expect(card(page, again["id"]).locator(".card-why")).to_have_text(
            "no profile named editor (profiles: coder, writer)")
        assert "was not reloaded" in srv.log.read_text()

        # Fixed: the banner goes.
        (home / "config.yaml").write_text(config("coder", "writer"))
        expect(banner).to_be_hidden(timeout=10_000)
        assert wait_for(lambda: httpx.get(f"{srv.url}/healthz").json()["config"]["ok"])
        page.close()
    finally:
        stop_server(srv)
