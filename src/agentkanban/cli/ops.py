"""The operator's commands: status, doctor, backup, restore, export, import."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from .app import App, emit_json, pass_app


def _age(info: dict[str, Any] | None) -> str:
    if not info or info.get("age_seconds") is None:
        return "no pass recorded"
    return f"last pass {info['age_seconds']:.0f}s ago"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the health report as JSON.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Is the database answering, and are the dispatcher and the notifier alive? Exit 1 if not."""
    from ..services import health

    s = app.settings.serve
    expected = {name: None for name, on in (("dispatcher", s.dispatch), ("notifier", s.notify)) if on}
    report = health.report(app.ctx, expected)
    if as_json:
        emit_json(report)
    else:
        click.echo(f"database:   {'ok' if report['database'] else 'NOT ANSWERING'}")
        for name in health.LOOPS:
            info = report[name]
            state = "alive" if info and info["alive"] else ("DOWN" if name in expected else "not running")
            click.echo(f"{name + ':':<11} {state} ({_age(info)})")
        click.echo(f"status:     {report['status']}")
    if not report["ok"]:
        sys.exit(1)


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--repair", is_flag=True, help="Make the safe repairs; list what needs a person.")
@pass_app
def doctor(app: App, as_json: bool, repair: bool) -> None:
    """Find what goes wrong in real fleets and say what to do (exit 1 while anything is left)."""
    from ..services import doctor as svc

    board = app.board if app.board_flag else None
    if repair:
        result = svc.repair(app.ctx, board)
        left = result["needs_person"]
        if as_json:
            emit_json(result)
        else:
            for f in result["repaired"]:
                click.echo(f"repaired  {f['code']:<22} {f['task_id'] or ''} {f['message']}")
            _print(left)
    else:
        left = svc.diagnose(app.ctx, board)
        if as_json:
            emit_json({"findings": left})
        else:
            _print(left)
    if left:
        sys.exit(1)


def _print(findings: list[dict[str, Any]]) -> None:
    if not findings:
        click.echo("nothing wrong found")
    for f in findings:
        where = " ".join(x for x in (f["board"], f["task_id"]) if x)
        click.echo(f"{f['code']:<22} {where}: {f['message']}\n{'':<22} fix: {f['fix']}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, path: Path) -> None:
    """Take a consistent online copy of the database to PATH (SQLite; for PostgreSQL, pg_dump)."""
    from ..services import backup as svc

    result = svc.backup(app.ctx, path)
    if not result["done"]:
        click.echo("PostgreSQL: take the backup with the server's own tool:", err=True)
        click.echo(result["command"])
        sys.exit(1)
    click.echo(f"backed up to {result['path']} ({result['bytes']} bytes, revision {result['revision']})")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def restore(app: App, path: Path) -> None:
    """Restore a backup made by `kanban backup` into this (empty) home."""
    from ..services import backup as svc

    result = svc.restore(app.settings, path)
    if not result["done"]:
        click.echo("PostgreSQL: restore with the server's own tool into an empty database:", err=True)
        click.echo(result["command"])
        sys.exit(1)
    click.echo(f"restored {path} to {result['path']} (revision {result['revision']})")
    click.echo("run `kanban db check` to confirm, then start `kanban serve`")


@click.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@pass_app
def export(app: App, output: Path | None) -> None:
    """Write boards and everything on them as versioned JSONL (only the --board one if given)."""
    from ..services import export as svc

    board = app.board if app.board_flag else None
    out = open(output, "x", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        for text in svc.export(app.ctx, board):
            out.write(text + "\n")
    finally:
        if output:
            out.close()


@click.command("import")
@click.argument("path", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--from", "source", type=click.Choice(["vibe-kanban", "backlog-md"]),
              help="Import from another tool: vibe-kanban's database or a Backlog.md backlog/ folder.")
@click.option("--board", "target", help="Put everything on this board (one-board files only).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def import_cmd(app: App, path: Path, source: str | None, target: str | None, as_json: bool) -> None:
    """Load a `kanban export` file (or, with --from, another tool's board) in one transaction."""
    if source:
        from ..services import importers

        result = importers.run(app.ctx, source, path, board=target)
    else:
        from ..services import export as svc

        if str(path) == "-":
            result = svc.import_stream(app.ctx, sys.stdin, board=target)
        else:
            with open(path, encoding="utf-8") as f:
                result = svc.import_stream(app.ctx, f, board=target)
    if as_json:
        emit_json(result)
    else:
        from .render import plain

        click.echo(", ".join(f"{k}: {plain(v)}" for k, v in result.items() if k != "renamed"))
        for old, new in result.get("renamed", {}).items():
            click.echo(f"task {old} exists here; imported as {new}")


def when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
