"""Screenshots of the dashboard for the docs: the board and the task drawer, light and dark, and
the board on a phone (390x844).

    python bench/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Starts ``kanban serve`` on a free port with a temporary KANBAN_HOME, fills a demo board through
the services (tasks in every column, a running worker, runs, comments, a worker log), and drives
Chromium with Playwright.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "screenshot-token"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def seed(env: dict[str, str]) -> str:
    """Fill the default board; return the id of the task to show in the drawer."""
    from agentkanban.config import load_settings
    from agentkanban.services import Actor, boards, comments, open_ctx, runs, tasks, transitions

    ctx = open_ctx(load_settings(env))
    ana, bot = Actor(name="ana"), Actor(name="coder")
    b = "default"

    day = 86400.0
    now = time.time()

    def date(days: float) -> str:  # a due date: the end of that day, UTC
        return time.strftime("%Y-%m-%d", time.gmtime(now + days * day))

    def new(title: str, **kw: object) -> str:
        return tasks.create(ctx, b, title=title, actor=ana, **kw).task.id  # type: ignore[arg-type]

    new("Launch the self-serve signup flow", assignee="planner", priority=3, tenant="acme",
               body="## Goal\nA visitor can sign up, verify their email and land on a **populated** board.\n\n"
                    "- email + password, magic link later\n- seed a sample board\n- track the funnel\n\n"
                    "Spec: https://example.com/specs/signup", labels=["launch"], due_at=date(9))
    api = new("Signup API: accounts, sessions, email verification", assignee="coder", priority=2,
              tenant="acme", parents=[],
              body="Endpoints for **sign up**, **log in** and *email verification*.\n\n"
                   "1. `POST /accounts` creates the account and sends the link\n"
                   "2. `GET /verify/<token>` activates it\n3. sessions are HttpOnly cookies\n\n"
                   "Done when the funnel dashboard can count each step.",
              labels=["auth", "backend"], due_at=date(3))
    forms = new("Signup form with inline validation", assignee="frontend", priority=1, tenant="acme",
                labels=["frontend"])
    new("Funnel dashboard for the signup steps", assignee="analyst", tenant="acme", parents=[api])
    new("Write the onboarding emails", assignee="writer", tenant="acme", parents=[api])
    new("Try passkeys instead of passwords?", triage=True, labels=["auth", "idea"])
    new("Audit third-party scripts on the marketing site", triage=True, tenant="globex")
    new("Rotate the staging database credentials", assignee="ops", priority=2, tenant="globex")
    new("Flaky test: test_session_expiry on PostgreSQL", assignee="coder", priority=1, labels=["bug"])
    new("Translate the pricing page (de, fr)", assignee="writer", tenant="globex")
    done = new("Pick the email provider", assignee="analyst", tenant="acme")
    transitions.complete(ctx, b, done, actor=ana, result="Chose Postmark: best deliverability in the trial.",
                         summary="Chose Postmark")
    blocked = new("Production DNS for the new auth domain", assignee="ops", tenant="acme",
                  labels=["infra"], due_at=date(-2))
    transitions.block(ctx, b, blocked, actor=ana, reason="Waiting for the registrar to unlock the domain")
    # A worker on the API task: one crashed attempt, then a running one.
    first = runs.claim(ctx, b, api, profile="coder", lock="host:1", ttl=900)
    assert first is not None
    runs.end_attempt(ctx, b, api, first.run_id, outcome="crashed", error="worker exited with code 137 (out of memory)",
                     count_failure=True, failure_limit=3)
    second = runs.claim(ctx, b, api, profile="coder", lock="host:2", ttl=900)
    assert second is not None
    fin = runs.claim(ctx, b, forms, profile="frontend", lock="host:3", ttl=900)
    assert fin is not None
    comments.add(ctx, b, api, "Sessions should be **HttpOnly** cookies; no tokens in localStorage.", actor=ana)
    comments.add(ctx, b, api, "Agreed. Verification links expire after 24 h; see `auth/verify.py`.", actor=bot,
                 author="coder")
    logs = boards.logs_dir(ctx, b)
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{api}.log").write_text(  # shown in the drawer's worker log section
        "[coder] reading task context\n[coder] plan: accounts table, session store, verify endpoint\n"
        "[coder] running tests: 42 passed\n[coder] heartbeat: migrations written, starting the verify flow\n")
    return api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    opts = parser.parse_args()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "KANBAN_HOME": home, "KANBAN_TOKEN": TOKEN,
               "TELEGRAM_BOT_TOKEN": "x", "TELEGRAM_HOME_CHANNEL": "123",
               "DISCORD_BOT_TOKEN": "x", "DISCORD_HOME_CHANNEL": "456"}
        focus = seed(env)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--no-dispatch", "--no-notify"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            httpx.post(f"{url}/api/tasks/{focus}/home-subscribe/telegram", cookies={"kanban_token": TOKEN})
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=opts.chromium, args=ARGS)
                for scheme in ("light", "dark"):
                    ctx = browser.new_context(viewport={"width": 1440, "height": 860}, color_scheme=scheme,
                                              device_scale_factor=1)
                    ctx.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": url}])
                    page = ctx.new_page()
                    page.emulate_media(color_scheme=scheme)
                    page.goto(url + "/")
                    page.wait_for_selector('#live-status[data-state="live"]')
                    page.locator("#lanes").check()
                    page.mouse.move(0, 0)
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(out / f"board-{scheme}.png"))
                    page.locator(f'.card[data-id="{focus}"] .card-title').click()
                    page.wait_for_selector("#drawer .comment")
                    page.wait_for_timeout(400)
                    page.screenshot(path=str(out / f"drawer-{scheme}.png"))
                    ctx.close()
                phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                            is_mobile=True, has_touch=True, color_scheme="light")
                phone.add_cookies([{"name": "kanban_token", "value": TOKEN, "url": url}])
                page = phone.new_page()
                page.goto(url + "/")
                page.wait_for_selector('#live-status[data-state="live"]')
                # The Ready column, swiped to: one column at a time.
                page.locator('.column[data-status="ready"]').scroll_into_view_if_needed()
                page.wait_for_timeout(400)
                page.screenshot(path=str(out / "board-phone.png"))
                phone.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
