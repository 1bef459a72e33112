"""Schedule and orchestration commands: schedule, specify, decompose."""

from __future__ import annotations

import click

from .app import App, emit_json, pass_app
from .render import task_line


def _when(raw: str, now: float) -> float | None:
    """``clear``/``now`` -> None, a duration from now (``30m``, ``2h``), or an ISO date and time."""
    from datetime import datetime

    from ..config import parse_duration

    text = raw.strip().lower()
    if text in ("clear", "now", "none"):
        return None
    try:
        return now + parse_duration(text)
    except Exception:
        pass
    try:
        return datetime.fromisoformat(raw.strip()).astimezone().timestamp()
    except ValueError:
        raise click.BadParameter(f"{raw!r}: give a duration (30m, 2h, 1d), an ISO time "
                                 "(2026-12-24T09:00) or clear") from None


@click.command("defer")
@click.argument("task_id")
@click.argument("when")
@pass_app
def defer(app: App, task_id: str, when: str) -> None:
    """Hold a waiting task in `scheduled` until WHEN (30m, 2h, an ISO time), or `clear` to release it."""
    from ..services import scheduling

    task = scheduling.schedule(app.ctx, app.board, app.task_id(task_id), _when(when, app.ctx.now()))
    click.echo(task_line(task))


def _job(app: App, verb: str, task_id: str, wait: float, as_json: bool) -> None:
    from ..services import orchestrate

    run = orchestrate.specify if verb == "specify" else orchestrate.decompose
    out = run(app.ctx, app.board, app.task_id(task_id), wait=wait)
    if as_json:
        emit_json(out)
    elif out["ok"]:
        extra = f": {', '.join(out['child_ids'])}" if out.get("child_ids") else ""
        click.echo(f"{out['task_id']}: {out['reason']}{extra}")
    else:
        raise click.ClickException(out["reason"])


@click.command("specify")
@click.argument("task_id")
@click.option("--wait", type=click.FloatRange(min=0), default=120, show_default=True,
              help="Seconds to wait for the orchestrator profile.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def specify(app: App, task_id: str, wait: float, as_json: bool) -> None:
    """Have the orchestrator profile turn a triage task into a spec."""
    _job(app, "specify", task_id, wait, as_json)


@click.command("decompose")
@click.argument("task_id")
@click.option("--wait", type=click.FloatRange(min=0), default=120, show_default=True,
              help="Seconds to wait for the orchestrator profile.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def decompose(app: App, task_id: str, wait: float, as_json: bool) -> None:
    """Have the orchestrator profile split a triage task into child tasks."""
    _job(app, "decompose", task_id, wait, as_json)
