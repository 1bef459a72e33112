"""Status and relationship commands: move, link, unlink, comment, complete, block, unblock, archive."""

from __future__ import annotations

from pathlib import Path

import click

from .app import App, emit_json, pass_app
from .render import task_line
from .texts import long_text, read_text


@click.command("move")
@click.argument("task_id")
@click.argument("status", type=click.Choice(["triage", "todo", "ready"]))
@pass_app
def move(app: App, task_id: str, status: str) -> None:
    """Move a task directly to triage, todo or ready."""
    click.echo(task_line(app.write("move", task=task_id, status=status)["task"]))


@click.command("link")
@click.argument("parent_id")
@click.argument("child_id")
@pass_app
def link(app: App, parent_id: str, child_id: str) -> None:
    """Make CHILD wait for PARENT."""
    from ..services import links

    added = links.link(app.ctx, app.board, app.task_id(parent_id), app.task_id(child_id))
    click.echo("linked" if added else "already linked")


@click.command("unlink")
@click.argument("parent_id")
@click.argument("child_id")
@pass_app
def unlink(app: App, parent_id: str, child_id: str) -> None:
    """Remove the link between PARENT and CHILD."""
    from ..services import links

    parent, child = app.task_id(parent_id), app.task_id(child_id)
    if not links.unlink(app.ctx, app.board, parent, child):
        raise click.ClickException(f"no such link: {child} does not wait for {parent}; "
                                   f"`kanban show {child} --json` lists its parents")
    click.echo("unlinked")


@click.command("comment")
@click.argument("task_id")
@click.argument("text", nargs=-1)
@click.option("--body-file", metavar="PATH", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Read the comment from a file (UTF-8; '-' reads standard input).")
@click.option("--author", help="Name to sign with (ignored inside a worker: its profile is used).")
@pass_app
def comment(app: App, task_id: str, text: tuple[str, ...], body_file: Path | None,
            author: str | None) -> None:
    """Add a comment to a task: TEXT..., `-` for standard input, or --body-file PATH."""
    body = read_text("--body", " ".join(text) if text else None, body_file)
    if body is None:
        raise click.UsageError(f"missing TEXT: run `kanban comment {task_id} TEXT...`, or pass "
                               "`-` to read it from standard input, or --body-file PATH")
    c = app.write("comment", task=task_id, body=body, author=author)
    click.echo(f"comment #{c['id']} by {c['author']}")


@click.command("complete")
@click.argument("task_ids", nargs=-1)
@long_text("summary", "What was done, for people and for the tasks that depend on it.")
@click.option("--metadata", help='Structured handoff as a JSON object, e.g. \'{"files": ["a.py"]}\'.')
@long_text("result", "Short result text.")
@click.option("--created-card", "created_cards", multiple=True,
              help="Id of a follow-up task made while working on it (repeat); each must exist.")
@click.option("--artifact", "artifacts", multiple=True,
              help="Path or URL of something produced (repeat); kept in metadata.artifacts.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def complete(app: App, task_ids: tuple[str, ...], summary: str | None, metadata: str | None,
             result: str | None, created_cards: tuple[str, ...], artifacts: tuple[str, ...],
             as_json: bool) -> None:
    """Mark tasks done (defaults to $KANBAN_TASK_ID inside a worker)."""
    if len(task_ids) > 1 and (summary or metadata or created_cards or artifacts):
        raise click.UsageError("--summary, --metadata, --created-card and --artifact describe one "
                               "task; complete one id at a time")
    done = app.write("complete", tasks=list(task_ids) or [app.task_ref(None)], summary=summary,
                     metadata=metadata, result=result, created_cards=list(created_cards),
                     artifacts=list(artifacts))
    if as_json:
        emit_json({"completed": done["completed"]})
    else:
        for t in done["tasks"]:
            click.echo(task_line(t))


@click.command("block")
@click.argument("task_id", required=False)
@click.argument("reason", nargs=-1)
@long_text("reason_opt", "Why it is blocked (what a human must do).", flag="reason")
@pass_app
def block(app: App, task_id: str | None, reason: tuple[str, ...], reason_opt: str | None) -> None:
    """Block a task with a reason (defaults to $KANBAN_TASK_ID inside a worker)."""
    text = reason_opt or " ".join(reason) or None
    click.echo(task_line(app.write("block", task=app.task_ref(task_id), reason=text)["task"]))


@click.command("unblock")
@click.argument("task_ids", nargs=-1, required=True)
@pass_app
def unblock(app: App, task_ids: tuple[str, ...]) -> None:
    """Unblock tasks: back to ready, or todo while a parent is not done."""
    for tid in task_ids:
        click.echo(task_line(app.write("unblock", task=tid)["task"]))


@click.command("archive")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--rm", "hard", is_flag=True, help="Delete already-archived tasks for good.")
@pass_app
def archive(app: App, task_ids: tuple[str, ...], hard: bool) -> None:
    """Archive tasks (or, with --rm, delete archived ones)."""
    if hard:
        for tid in app.write("archive", tasks=list(task_ids), hard=True)["deleted"]:
            click.echo(f"deleted {tid}")
        return
    for tid in task_ids:
        click.echo(task_line(app.write("archive", tasks=[tid])["task"]))


@click.command("promote")
@pass_app
def promote(app: App) -> None:
    """Promote every todo task whose parents are all done."""
    from ..services import transitions

    ids = transitions.promote_board(app.ctx, app.board)
    click.echo(f"promoted {len(ids)}" + (": " + ", ".join(ids) if ids else ""))
