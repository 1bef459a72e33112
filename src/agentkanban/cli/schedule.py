"""``kanban schedule add|list|pause|resume|rm``: recurring work."""

from __future__ import annotations

import click

from ..config import parse_duration
from ..services import schedules
from .app import App, emit_json, pass_app
from .ops import when
from .texts import long_text


@click.group("schedule")
def schedule() -> None:
    """Recurring work: one task per occurrence of a cron expression."""


def _line(s: dict) -> str:  # type: ignore[type-arg]
    state = "paused" if s["paused"] else f"next {when(s['next_at'])}"
    return f"{s['id']}  {s['cron']!r} ({s['tz']})  {state}  {s['title']}"


@schedule.command("add")
@click.argument("title")
@click.option("--cron", required=True, help='Five fields, e.g. "0 9 * * MON-FRI".')
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Berlin.")
@click.option("--catch-up", type=click.Choice(schedules.CATCH_UP), default="latest", show_default=True,
              help="After downtime: the latest missed occurrence, all of them, or none.")
@click.option("--skip-if-open", is_flag=True, help="Skip an occurrence while the previous task is open.")
@long_text("body", "Markdown description of each task.")
@click.option("--assignee", help="Worker profile for each task.")
@click.option("--tenant", help="Soft namespace within the board.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option("--triage", is_flag=True, help="Create each task in triage.")
@click.option("--max-runtime", help="Per-attempt limit: 90, 30s, 45m, 2h, 1d.")
@click.option("--max-retries", type=int, help="Failures before a task gives up.")
@click.option("--skill", "skills", multiple=True, help="Extra skill for the worker (repeat).")
@click.option("--workspace", help="scratch (default), dir:/abs/path or worktree:/abs/repo.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def add(app: App, title: str, cron: str, tz: str, catch_up: str, skip_if_open: bool, body: str | None,
        assignee: str | None, tenant: str | None, priority: int, triage: bool, max_runtime: str | None,
        max_retries: int | None, skills: tuple[str, ...], workspace: str | None, as_json: bool) -> None:
    """Add a schedule that creates TITLE at every occurrence."""
    s = schedules.add(app.ctx, app.board, title=title, cron=cron, tz=tz, catch_up=catch_up,
                      skip_if_open=skip_if_open, body=body, assignee=assignee, tenant=tenant,
                      priority=priority, triage=triage or None,
                      max_runtime_seconds=parse_duration(max_runtime) if max_runtime else None,
                      max_retries=max_retries, skills=list(skills), workspace=workspace)
    emit_json(s) if as_json else click.echo(_line(s))


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, as_json: bool) -> None:
    """The board's schedules."""
    found = schedules.list_schedules(app.ctx, app.board)
    if as_json:
        emit_json({"schedules": found})
        return
    for s in found:
        click.echo(_line(s))


@schedule.command("pause")
@click.argument("schedule_id")
@pass_app
def pause(app: App, schedule_id: str) -> None:
    """Stop creating tasks until resumed."""
    click.echo(_line(schedules.set_paused(app.ctx, app.board, schedule_id, True)))


@schedule.command("resume")
@click.argument("schedule_id")
@pass_app
def resume(app: App, schedule_id: str) -> None:
    """Start again from now (occurrences while paused are not caught up)."""
    click.echo(_line(schedules.set_paused(app.ctx, app.board, schedule_id, False)))


@schedule.command("rm")
@click.argument("schedule_id")
@pass_app
def rm(app: App, schedule_id: str) -> None:
    """Remove a schedule (the tasks it made stay)."""
    schedules.remove(app.ctx, app.board, schedule_id)
    click.echo(f"removed {schedule_id}")
