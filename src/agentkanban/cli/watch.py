"""Following the event log live: ``watch`` (a board) and ``tail`` (one task)."""

from __future__ import annotations

import json
import time

import click

from ..domain.models import Event
from ..services import events
from .app import App, emit_json, pass_app
from .render import clock, event_text


def _line(e: Event) -> str:
    return f"{clock(e.created_at)} #{e.id} {e.task_id} {event_text(e.kind, e.payload)}"


def _follow(app: App, *, task_id: str | None, kinds: frozenset[str] | None, interval: float,
            as_json: bool, since: int | None, count: int | None) -> None:
    cursor = events.latest_id(app.ctx, app.board) if since is None else since
    seen = 0
    while True:
        batch = events.since(app.ctx, cursor, board=app.board, kinds=kinds, task_id=task_id)
        for e in batch:
            click.echo(json.dumps(e.to_dict()) if as_json else _line(e))
            seen += 1
            if count is not None and seen >= count:
                return
        if batch:
            cursor = batch[-1].id
        else:
            time.sleep(interval)


@click.command("watch")
@click.option("--kinds", help="Comma-separated event kinds to show (default: all).")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Seconds between polls.")
@click.option("--since", type=int, help="Start after this event id (default: now).")
@click.option("--count", type=int, help="Exit after this many events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def watch(app: App, kinds: str | None, interval: float, since: int | None, count: int | None,
          as_json: bool) -> None:
    """Follow the board's event log live (Ctrl-C to stop)."""
    ks = frozenset(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None
    try:
        _follow(app, task_id=None, kinds=ks, interval=interval, as_json=as_json, since=since,
                count=count)
    except KeyboardInterrupt:
        pass


@click.command("tail")
@click.argument("task_id", required=False)
@click.option("--interval", type=float, default=0.5, show_default=True)
@click.option("--since", type=int, default=0, show_default=True, help="Start after this event id.")
@click.option("--count", type=int, help="Exit after this many events.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def tail(app: App, task_id: str | None, interval: float, since: int, count: int | None,
         as_json: bool) -> None:
    """Follow one task's events (its history first)."""
    tid = app.task_id(task_id)
    try:
        _follow(app, task_id=tid, kinds=None, interval=interval, as_json=as_json, since=since,
                count=count)
    except KeyboardInterrupt:
        pass


@click.command("activity")
@click.option("--task", "task_id", help="Only this task's events.")
@click.option("--profile", help="Only events of this profile's attempts and the tasks assigned to it.")
@click.option("--kind", "kinds", multiple=True, help="Only this kind of event (repeat).")
@click.option("--before", type=int, help="Events older than this event id (the next page).")
@click.option("--limit", type=int, default=50, show_default=True, help="How many (1-200).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def activity(app: App, task_id: str | None, profile: str | None, kinds: tuple[str, ...],
             before: int | None, limit: int, as_json: bool) -> None:
    """The board's activity, newest first: who did what to which task."""
    feed = events.activity(app.ctx, app.board, task_id=task_id, profile=profile,
                           kinds=list(kinds) or None, before=before, limit=limit)
    if as_json:
        emit_json(feed)
        return
    for e in feed["events"]:
        click.echo(f"{clock(e['created_at'])} #{e['id']} {e['task_id']} "
                   f"{event_text(e['kind'], e['payload'])} ({e['title']})")
    if feed["next_before"]:
        click.echo(f"older: kanban activity --before {feed['next_before']}")
