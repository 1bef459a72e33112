"""Notification commands: notify-subscribe, notify-unsubscribe, notify-list, notify-retry, notifier."""

from __future__ import annotations

import time
from typing import Any

import click

from ..domain.models import Delivery, Subscription
from ..services import deliveries, health, subs
from .app import App, emit_json, pass_app


def _dest(platform: str, chat_id: str, thread_id: str | None) -> str:
    return f"{platform}:{chat_id}" + (f" thread {thread_id}" if thread_id else "")


@click.command("notify-subscribe")
@click.argument("task_id")
@click.option("--platform", required=True, help="telegram, discord, slack or a configured webhook name.")
@click.option("--chat-id", required=True, help="Chat, channel or conversation id on that platform.")
@click.option("--thread-id", default=None, help="Topic (Telegram), thread channel (Discord) or thread ts (Slack).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def notify_subscribe(app: App, task_id: str, platform: str, chat_id: str, thread_id: str | None,
                     as_json: bool) -> None:
    """Send TASK_ID's outcome (done, blocked, gave up, crashed, timed out) to a chat."""
    tid = app.task_id(task_id)
    added = subs.subscribe(app.ctx, app.board, tid, platform=platform, chat_id=chat_id,
                           thread_id=thread_id, user_id=app.actor.name)
    if as_json:
        emit_json({"task_id": tid, "subscribed": True, "created": added})
        return
    where = _dest(platform.strip().lower(), chat_id.strip(), (thread_id or "").strip())
    click.echo(f"{tid} -> {where}" + ("" if added else " (already subscribed)"))


@click.command("notify-unsubscribe")
@click.argument("task_id")
@click.option("--platform", required=True)
@click.option("--chat-id", required=True)
@click.option("--thread-id", default=None)
@pass_app
def notify_unsubscribe(app: App, task_id: str, platform: str, chat_id: str, thread_id: str | None) -> None:
    """Stop sending TASK_ID's outcome to a chat."""
    tid = app.task_id(task_id)
    if not subs.unsubscribe(app.ctx, app.board, tid, platform=platform, chat_id=chat_id,
                            thread_id=thread_id):
        raise click.ClickException(f"no such subscription: {tid} is not sent to that chat; "
                                   f"`kanban notify-list {tid}` lists its subscriptions")
    click.echo("unsubscribed")


def _sub_line(s: Subscription) -> str:
    return f"{s.task_id}  {_dest(s.platform, s.chat_id, s.thread_id)}"


def _usable_platforms(app: App) -> set[str]:
    """Platforms a notifier started with this configuration can send to."""
    return subs.usable_platforms(app.ctx)


def _delivery_line(d: Delivery, now: float, usable: set[str]) -> str:
    line = (f"#{d.id} {d.task_id} {d.kind or '?'} -> {_dest(d.platform, d.chat_id, d.thread_id)}: "
            f"{d.status}")
    if d.status == "pending" and d.platform not in usable:
        line += f" ({d.platform} is not configured here: it waits until a notifier can send it)"
        return line
    if d.status == "sent" and d.sent_at is not None:
        line += f" {max(0, int(now - d.sent_at))}s ago"
    elif d.status in ("pending", "sending"):
        line += f" (attempts {d.attempts}"
        if d.status == "pending" and d.next_attempt_at > now:
            line += f", next in {int(d.next_attempt_at - now) + 1}s"
        line += ")"
    if d.last_error and d.status != "sent":
        line += f"\n    error: {d.last_error}"
    return line


def _notifier_line(status: dict[str, Any] | None) -> str:
    if status is None:
        return "notifier: never ran (start `kanban serve` or `kanban notifier`)"
    seen = f"last seen {int(status['age_seconds'])}s ago"
    if not status["alive"]:
        return f"notifier: not running ({seen}); pending messages wait until one starts"
    return f"notifier: running, sending to {', '.join(status['platforms']) or 'nothing'} ({seen})"


@click.command("notify-list")
@click.argument("task_id", required=False)
@click.option("--limit", default=20, show_default=True, help="How many recent deliveries to show.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def notify_list(app: App, task_id: str | None, limit: int, as_json: bool) -> None:
    """Subscriptions and recent deliveries (with status and error), of one task or the board."""
    tid = app.task_id(task_id) if task_id else None
    sub_list = subs.list_subs(app.ctx, app.board, tid)
    recent = deliveries.list_deliveries(app.ctx, app.board, tid, limit=limit)
    status = health.notifier_status(app.ctx)
    if as_json:
        data: dict[str, Any] = {"subscriptions": [s.to_dict() for s in sub_list],
                                "deliveries": [d.to_dict() for d in recent], "notifier": status}
        emit_json(data)
        return
    click.echo(_notifier_line(status))
    click.echo("subscriptions:" if sub_list else "subscriptions: none")
    for s in sub_list:
        click.echo("  " + _sub_line(s))
    click.echo("deliveries:" if recent else "deliveries: none")
    now = time.time()
    usable = _usable_platforms(app)
    for d in recent:
        click.echo("  " + _delivery_line(d, now, usable))


@click.command("notify-retry")
@click.argument("delivery_id", type=int)
@pass_app
def notify_retry(app: App, delivery_id: int) -> None:
    """Queue a failed delivery again (after fixing a token or adding the bot to the chat)."""
    d = deliveries.retry(app.ctx, app.board, delivery_id)
    click.echo(f"#{d.id} queued again")


@click.command("notifier")
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
@pass_app
def notifier(app: App, once: bool) -> None:
    """Run the notifier alone (``kanban serve`` also runs it unless serve.notify is false)."""
    import logging
    import signal

    from ..notify.notifier import Notifier

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # httpx logs each request URL at INFO; Telegram's carries the token (redacted anyway).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    n = Notifier(app.ctx)
    if not n.platforms:
        n.close()
        raise click.ClickException(
            "no notification platform is configured: set notify.platforms.<name> in config.yaml "
            "or TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN / SLACK_BOT_TOKEN")
    if once:
        try:
            sent = n.tick()
        finally:
            n.close()
        click.echo(f"{sent} deliveries attempted")
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: n.stop())
    click.echo(f"notifier: delivering to {', '.join(n.platforms)}", err=True)
    n.run()
