"""``kanban boards ...``: list, create, rename, switch, show, rm."""

from __future__ import annotations

import click

from ..services import boards as svc
from .app import App, emit_json, pass_app
from .render import table


@click.group("boards")
def boards() -> None:
    """Manage boards (each is an isolated set of tasks)."""


@boards.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived boards.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, include_archived: bool, as_json: bool) -> None:
    """List boards with task counts."""
    data = svc.list_boards(app.ctx, include_archived)
    if as_json:
        emit_json({"boards": data, "current": svc.current(app.ctx)})
        return
    table(None, ["", "slug", "name", "tasks", "archived"],
          [["*" if b["is_current"] else "", b["slug"], b["name"], b["total"],
            "yes" if b["archived"] else ""] for b in data])


@boards.command("create")
@click.argument("slug")
@click.option("--name")
@click.option("--description")
@click.option("--icon")
@click.option("--color")
@click.option("--switch", "switch_to", is_flag=True, help="Make it the current board.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def create(app: App, slug: str, name: str | None, description: str | None, icon: str | None,
           color: str | None, switch_to: bool, as_json: bool) -> None:
    """Create a board (or restore an archived one)."""
    board = svc.create(app.ctx, slug, name=name, description=description, icon=icon, color=color)
    if switch_to:
        svc.switch(app.ctx, board.slug)
    if as_json:
        emit_json({"board": board.to_dict(), "current": svc.current(app.ctx)})
    else:
        click.echo(f"board {board.slug} ({board.name})" + (" is now current" if switch_to else ""))


@boards.command("rename")
@click.argument("slug")
@click.argument("name")
@pass_app
def rename(app: App, slug: str, name: str) -> None:
    """Change a board's display name (the slug never changes)."""
    board = svc.update(app.ctx, slug, name=name)
    click.echo(f"board {board.slug} is now named {board.name!r}")


@boards.command("switch")
@click.argument("slug")
@pass_app
def switch(app: App, slug: str) -> None:
    """Make SLUG the current board for the CLI."""
    click.echo(f"current board: {svc.switch(app.ctx, slug)}")


@boards.command("show")
@click.argument("slug", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, slug: str | None, as_json: bool) -> None:
    """Show a board (default: the active one)."""
    board = svc.get(app.ctx, slug or app.board)
    if as_json:
        emit_json({"board": board.to_dict(), "current": svc.current(app.ctx),
                   "workspaces": str(svc.workspaces_dir(app.ctx, board.slug)),
                   "logs": str(svc.logs_dir(app.ctx, board.slug))})
        return
    click.echo(f"{board.slug}: {board.name}" + (" (archived)" if board.archived else ""))
    if board.description:
        click.echo(board.description)


@boards.command("rm")
@click.argument("slug")
@click.option("--delete", "hard", is_flag=True, help="Delete it and all its tasks instead of archiving.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --delete.")
@pass_app
def rm(app: App, slug: str, hard: bool, yes: bool) -> None:
    """Archive a board (recoverable with `boards create`), or delete it with --delete."""
    if hard and not yes:
        click.confirm(f"delete board {slug} and all its tasks for good?", abort=True)
    result = svc.remove(app.ctx, slug, hard=hard)
    click.echo(f"board {result['slug']} {result['action']}")
