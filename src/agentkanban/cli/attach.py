"""Attachment and deletion commands: attach, attachments, delete."""

from __future__ import annotations

from pathlib import Path

import click

from .app import App, emit_json, pass_app


@click.command("attach")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--task", "task_id", help="The task (defaults to $KANBAN_TASK_ID inside a worker).")
@click.option("--name", help="Name to store it under (one file only; default: the file's name).")
@click.option("--json", "as_json", is_flag=True, help="Print the attachments as JSON.")
@pass_app
def attach(app: App, files: tuple[Path, ...], task_id: str | None, name: str | None, as_json: bool) -> None:
    """Attach files to a task (a worker hands over a report, a diff, a screenshot)."""
    if name and len(files) > 1:
        raise click.UsageError("--name names one file; attach one file at a time")
    task = app.task_ref(task_id)
    made = [app.attach(f, task=task, filename=name or f.name)["attachment"] for f in files]
    if as_json:
        emit_json(made)
        return
    for a in made:
        click.echo(f"{a['task_id']}: attached {a['filename']} ({a['size']} bytes) as #{a['id']}")


@click.command("attachments")
@click.argument("task_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_attachments(app: App, task_id: str | None, as_json: bool) -> None:
    """List a task's attachments with the paths workers read them at."""
    from ..services import attachments

    tid = app.task_id(task_id)
    atts = attachments.for_task(app.ctx, tid)
    if as_json:
        emit_json([a.to_dict() for a in atts])
        return
    root = attachments.store_dir(app.ctx) / app.board
    for a in atts:
        click.echo(f"#{a.id}  {a.filename}  {a.size} B  {a.uploaded_by}  {root / a.stored_name}")
    if not atts:
        click.echo(f"{tid}: no attachments", err=True)


@click.command("delete")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def delete(app: App, task_ids: tuple[str, ...], yes: bool) -> None:
    """Delete tasks for good, with their comments, runs, links and attachments (not while running)."""
    from ..services import deletion

    ids = [app.task_id(t) for t in task_ids]
    if not yes:
        click.confirm(f"delete {', '.join(ids)} and everything attached to them?", abort=True)
    for tid in ids:
        done = deletion.delete_task(app.ctx, tid, actor=app.actor)
        click.echo(f"{tid}: deleted ({done['attachments_removed']} attachments removed)")
