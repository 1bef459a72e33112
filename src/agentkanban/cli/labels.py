"""Labels and due dates: ``kanban label add|remove|set|color``, ``kanban labels``, ``kanban due``."""

from __future__ import annotations

import click

from ..services import labels as labels_svc
from ..services import views
from .app import App, emit_json, pass_app
from .render import table, task_line


@click.group("label")
def label() -> None:
    """Add, remove or replace labels on tasks, or choose a label's colour."""


def _echo(app: App, found: list, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        now = app.ctx.now()
        emit_json({"tasks": [views.task_json(t, now) for t in found]})
        return
    for t in found:
        click.echo(f"{task_line(t)}  labels: {', '.join(t.labels) or '-'}")


@label.command("add")
@click.argument("name")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def add(app: App, name: str, task_ids: tuple[str, ...], as_json: bool) -> None:
    """Add label NAME to each task (all change or none)."""
    _echo(app, labels_svc.edit(app.ctx, app.board, list(task_ids), add=[name]), as_json)


@label.command("remove")
@click.argument("name")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def remove(app: App, name: str, task_ids: tuple[str, ...], as_json: bool) -> None:
    """Remove label NAME from each task."""
    _echo(app, labels_svc.edit(app.ctx, app.board, list(task_ids), remove=[name]), as_json)


@label.command("set")
@click.argument("task_id")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def set_cmd(app: App, task_id: str, names: tuple[str, ...], as_json: bool) -> None:
    """Replace a task's labels with NAMES (none: remove them all)."""
    _echo(app, labels_svc.edit(app.ctx, app.board, [task_id], replace=list(names)), as_json)


@label.command("color")
@click.argument("name")
@click.argument("color")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def color(app: App, name: str, color: str, as_json: bool) -> None:
    """Choose NAME's colour on this board: #rrggbb, or 'auto' for the one derived from the name."""
    out = labels_svc.set_color(app.ctx, app.board, name, color)
    if as_json:
        emit_json(out)
    else:
        click.echo(f"{out['name']}: {out['color']}{'' if out['custom'] else ' (derived)'}")


@click.command("labels")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def labels(app: App, as_json: bool) -> None:
    """The labels on this board with their colours and open-task counts."""
    data = labels_svc.board_labels(app.ctx, app.board)
    if as_json:
        emit_json({"labels": data})
        return
    table(None, ["label", "colour", "tasks"],
          [[x["name"], x["color"] + ("" if x["custom"] else " (derived)"), x["count"]] for x in data])


@click.command("due")
@click.argument("task_id")
@click.argument("when")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def due(app: App, task_id: str, when: str, as_json: bool) -> None:
    """Set a task's due date: 2026-12-31 (end of day, UTC), 2026-12-31T17:00, or 'none'."""
    from ..domain.due import describe
    from ..services import due as due_svc

    task = due_svc.set_due(app.ctx, app.board, app.task_id(task_id), when)
    if as_json:
        emit_json({"task": views.task_json(task, app.ctx.now())})
    else:
        click.echo(f"{task_line(task)}  due: {describe(task.due_at) or 'none'}")
