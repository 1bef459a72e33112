"""Review commands: approve, request-changes, approve-start (docs/review.md)."""

from __future__ import annotations

import click

from .app import App, emit_json, pass_app
from .render import task_line


@click.command("approve")
@click.argument("task_id", required=False)
@click.option("--summary", help="What the review found; added to the handoff children get.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def approve(app: App, task_id: str | None, summary: str | None, as_json: bool) -> None:
    """Approve work in review: it counts as done (defaults to $KANBAN_TASK_ID inside a reviewer)."""
    task = app.write("approve", task=app.task_ref(task_id), summary=summary)["task"]
    emit_json({"task": task["id"], "status": task["status"]}) if as_json else click.echo(task_line(task))


@click.command("request-changes")
@click.argument("task_id", required=False)
@click.option("--reason", required=True, help="What must change; the implementer's next attempt reads it.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def request_changes(app: App, task_id: str | None, reason: str, as_json: bool) -> None:
    """Send work in review back to its implementer (blocked for a person once the rounds are spent)."""
    task = app.write("request_changes", task=app.task_ref(task_id), reason=reason)["task"]
    emit_json({"task": task["id"], "status": task["status"]}) if as_json else click.echo(task_line(task))


@click.command("approve-start")
@click.argument("task_ids", nargs=-1, required=True)
@pass_app
def approve_start(app: App, task_ids: tuple[str, ...]) -> None:
    """Let the dispatcher start tasks that wait for a person's approval."""
    for tid in task_ids:
        click.echo(task_line(app.write("approve_start", task=tid)["task"]))
