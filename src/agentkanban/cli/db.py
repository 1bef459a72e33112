"""Database and housekeeping commands: ``db upgrade``, ``db current``, ``db check``, ``gc``."""

from __future__ import annotations

import sys

import click

from ..services import maintenance
from .app import App, emit_json, pass_app


@click.group("db")
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@pass_app
def upgrade(app: App) -> None:
    """Apply pending migrations (also done automatically on first use)."""
    click.echo(f"database at revision {maintenance.upgrade(app.settings)}")


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print {revision, head, up_to_date}.")
@pass_app
def current(app: App, as_json: bool) -> None:
    """Print the database's schema revision, and whether it is behind; never upgrades it."""
    rev, head = maintenance.schema_state(app.settings)
    if as_json:
        emit_json({"revision": rev, "head": head, "up_to_date": rev == head})
    elif rev is None:
        click.echo(f"(empty): no schema yet; `kanban db upgrade` creates it (revision {head})")
    elif rev != head:
        click.echo(f"{rev} (behind {head}; run `kanban db upgrade`)")
    else:
        click.echo(rev)


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def check(app: App, as_json: bool) -> None:
    """The backend's integrity check plus the board's invariants; exit 1 on any problem."""
    from ..services import integrity

    report = integrity.check(app.ctx)
    if as_json:
        emit_json(report)
    else:
        for line in [*report["backend"], *report["problems"]]:
            click.echo(line)
        click.echo(f"{'ok' if report['ok'] else 'PROBLEMS FOUND'}: {report['tasks']} tasks, "
                   f"{report['links']} links checked")
    if not report["ok"]:
        sys.exit(1)


@click.command("gc")
@click.option("--event-retention-days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Delete events of done/archived tasks older than this.")
@click.option("--log-retention-days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Delete worker logs not written for this long.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def gc(app: App, event_retention_days: int, log_retention_days: int, as_json: bool) -> None:
    """Remove old events, stale logs and the scratch workspaces of archived tasks (not while a
    child task is open or a worker of the task is still alive)."""
    from ..dispatch.workspaces import live_workers

    result = maintenance.gc(app.ctx, app.board, event_days=event_retention_days,
                            log_days=log_retention_days,
                            live_workers=lambda ids: live_workers(app.ctx, ids))
    if as_json:
        emit_json(result)
    else:
        from .render import pairs

        click.echo(pairs(result) or "nothing to remove")
