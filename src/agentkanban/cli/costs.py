"""Worker reports and spending: ``kanban session``, ``kanban usage``, ``kanban usage report``."""

from __future__ import annotations

from typing import Any

import click

from .app import App, emit_json, pass_app
from .render import table


@click.command("session")
@click.argument("session_id")
@click.option("--task", "task_ref", default=None, help="Task id (inside a worker: its own task).")
@pass_app
def session_cmd(app: App, session_id: str, task_ref: str | None) -> None:
    """Record the agent's session id for this attempt, so a retry can resume it."""
    out = app.write("session", task=app.task_ref(task_ref), session_id=session_id)
    click.echo(f"{out['task_id']}: attempt {out['run_id']} session {out['session_id']}")


def _money(v: Any) -> str:
    return f"${float(v or 0):,.4f}"


@click.group("usage", invoke_without_command=True)
@click.option("--input-tokens", default=None, help="Input tokens (not served from cache).")
@click.option("--output-tokens", default=None, help="Output tokens.")
@click.option("--cache-read-tokens", default=None, help="Input tokens read from the prompt cache.")
@click.option("--cache-write-tokens", default=None, help="Input tokens written to the prompt cache.")
@click.option("--cost-usd", default=None, help="Dollars, when the agent reports them (else priced from `prices`).")
@click.option("--model", default=None, help="Model name (for pricing and reports).")
@click.option("--task", "task_ref", default=None, help="Task id (inside a worker: its own task).")
@click.option("--json", "as_json", is_flag=True, help="Print what was recorded as JSON.")
@click.pass_context
def usage(cctx: click.Context, input_tokens: str | None, output_tokens: str | None,
          cache_read_tokens: str | None, cache_write_tokens: str | None, cost_usd: str | None,
          model: str | None, task_ref: str | None, as_json: bool) -> None:
    """Add to the current attempt's usage; `kanban usage report` sums it up."""
    if cctx.invoked_subcommand is not None:
        return
    app: App = cctx.obj
    out = app.write("usage", task=app.task_ref(task_ref), input_tokens=input_tokens,
                    output_tokens=output_tokens, cache_read_tokens=cache_read_tokens,
                    cache_write_tokens=cache_write_tokens, cost_usd=cost_usd, model=model)
    if as_json:
        emit_json(out)
        return
    t = out["task_total"]
    click.echo(f"{out['task_id']}: attempt {out['run_id']} +{_money(out['recorded']['cost_usd'])}; "
               f"task total {_money(t['cost_usd'])}")


@usage.command("report")
@click.option("--by", default=None, help="Group by profile, board, day, task, model or run (comma-separated).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="From this UTC day.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="To this UTC day (inclusive).")
@click.option("--all-boards", is_flag=True, help="Every board, not only the current one.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def report(app: App, by: str | None, since: str | None, until: str | None, all_boards: bool,
           as_json: bool) -> None:
    """Usage and cost summed per profile, board or day (and in total)."""
    from ..services import usage as usage_svc

    if app.server:
        raise click.UsageError("`kanban usage report` runs only where the board's database is, not "
                               "through --server/$KANBAN_URL")

    data = usage_svc.report(app.ctx, by, board=None if all_boards else app.board, since=since, until=until)
    if as_json:
        emit_json(data)
        return
    cols = data["by"]
    rows = [[*(r[c] for c in cols), f"{r['tokens']:,}", r["input_tokens"], r["output_tokens"],
             r["cache_read_tokens"], _money(r["cost_usd"])] for r in data["rows"]]
    t = data["total"]
    rows.append([*(["total"] + [""] * (len(cols) - 1) if cols else []), f"{t['tokens']:,}",
                 t["input_tokens"], t["output_tokens"], t["cache_read_tokens"], _money(t["cost_usd"])])
    table(None, [*cols, "tokens", "input", "output", "cache read", "cost"], rows)
