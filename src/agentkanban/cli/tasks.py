"""Task commands: init, create, list, show, graph, context, assign, edit, priority, runs, stats, assignees.

Services only some commands use are imported in those commands: `kanban list` runs in agents'
loops, and every module imported here is start-up time for it.
"""

from __future__ import annotations

import time

import click

from ..domain.models import TASK_SORTS
from .app import App, emit_json, pass_app
from .render import counts, graph_lines, pairs, show_lines, table, task_line, task_rows
from .texts import long_text


@click.command("init")
@pass_app
def init_cmd(app: App) -> None:
    """Create the database and the default board's folders."""
    from ..services import boards as boards_svc

    boards_svc.create(app.ctx, boards_svc.DEFAULT_BOARD)
    click.echo(f"agentkanban home: {app.settings.home}")
    url = app.settings.database_url
    click.echo(f"database: {url.split('@')[-1] if '@' in url else url}")
    click.echo("next: `kanban create \"my first task\"`, then `kanban serve` for the dashboard")


@click.command("create")
@click.argument("title")
@long_text("body", "Markdown description.")
@click.option("--assignee", help="Worker profile that should do it.")
@click.option("--parent", "parents", multiple=True, help="A task this one waits for (repeat).")
@click.option("--tenant", help="Soft namespace within the board.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option("--triage", is_flag=True, help="Park it in triage instead of todo/ready.")
@click.option("--idempotency-key", help="Creating again with the same key returns the same task.")
@click.option("--max-runtime", help="Per-attempt limit: 90, 30s, 45m, 2h, 1d.")
@click.option("--max-retries", type=int, help="Failures before the task gives up (default: config).")
@click.option("--skill", "skills", multiple=True, help="Extra skill for the worker (repeat).")
@click.option("--workspace", help="scratch (default), dir:/abs/path or worktree:/abs/repo.")
@click.option("--notify", "notify", multiple=True, help="Subscribe a platform's home channel (repeat).")
@click.option("--max-cost-usd", default=None, help="Spending limit over all attempts; blocked when reached.")
@click.option("--review-by", help="Who reviews its work: a profile, human, or none (default: the profile's).")
@click.option("--review-max-rounds", type=int, help="Requests for changes before it is blocked for a person.")
@click.option("--requires-approval", is_flag=True, help="A person approves it before it may start.")
@click.option("--label", "labels", multiple=True, help="A label (repeat).")
@click.option("--due", help="Due date: 2026-12-31 (end of day, UTC) or 2026-12-31T17:00.")
@click.option("--runs-on", "runs_on", multiple=True, metavar="LABEL",
              help="Only a remote runner with this label may run it (repeat; docs/runners.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
@pass_app
def create(app: App, title: str, body: str | None, assignee: str | None, parents: tuple[str, ...],
           tenant: str | None, priority: int, triage: bool, idempotency_key: str | None,
           max_runtime: str | None, max_retries: int | None, skills: tuple[str, ...],
           workspace: str | None, notify: tuple[str, ...], max_cost_usd: str | None,
           review_by: str | None, review_max_rounds: int | None, requires_approval: bool,
           labels: tuple[str, ...], due: str | None, runs_on: tuple[str, ...], as_json: bool) -> None:
    """Create a task."""
    out = app.write("create", title=title, body=body, assignee=assignee, parents=list(parents),
                    tenant=tenant, priority=priority, triage=triage,
                    idempotency_key=idempotency_key, max_runtime=max_runtime,
                    max_retries=max_retries, skills=list(skills), workspace=workspace,
                    notify=list(notify), max_cost_usd=max_cost_usd, review_by=review_by,
                    review_max_rounds=review_max_rounds, requires_approval=requires_approval,
                    labels=list(labels), due=due, runs_on=list(runs_on))
    if as_json:
        emit_json(out)
        return
    task = out["task"]
    click.echo(f"{'Created' if out['created'] else 'Exists'} {task['id']} ({task['status']})")
    if out.get("warning"):
        click.echo(f"warning: {out['warning']}", err=True)


@click.command("list")
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeat).")
@click.option("--assignee", help="Only this assignee ('' for unassigned).")
@click.option("--mine", is_flag=True, help="Only tasks assigned to this worker's profile.")
@click.option("--tenant", help="Only this tenant.")
@click.option("--archived", is_flag=True, help="Include archived tasks.")
@click.option("--sort", default="priority", show_default=True,
              type=click.Choice(sorted(TASK_SORTS)), help="Order.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@click.option("--label", "labels", multiple=True, help="Only tasks with this label (repeat: all).")
@click.option("--due", help="overdue, has, none, or a date: only tasks due at or before it.")
@click.option("--attention", is_flag=True,
              help="Only tasks that need a person: blocked, failing, ready but unassigned, overdue.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, statuses: tuple[str, ...], assignee: str | None, mine: bool,
             tenant: str | None, archived: bool, sort: str, limit: int | None,
             labels: tuple[str, ...], due: str | None, attention: bool, as_json: bool) -> None:
    """List tasks on the board."""
    doc = app.list_tasks(mine=mine, statuses=list(statuses), assignee=assignee, tenant=tenant,
                         include_archived=archived, sort=sort, limit=limit, label=list(labels),
                         due=due, attention=attention)
    if as_json:
        emit_json(doc)
    else:
        task_rows(doc["tasks"])


@click.command("show")
@click.argument("task_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, task_id: str | None, as_json: bool) -> None:
    """Show a task, its runs, comments, events and worker context (defaults to $KANBAN_TASK_ID)."""
    doc = app.read("show", task_id)
    if as_json:
        emit_json(doc)
    else:
        click.echo("\n".join(show_lines(doc, time.time())))


@click.command("graph")
@click.argument("task_id", required=False)
@click.option("--depth", type=int, default=3, show_default=True, help="Levels each way (1-10).")
@click.option("--limit", type=int, default=200, show_default=True, help="Tasks in all (1-500).")
@click.option("--json", "as_json", is_flag=True, help="Print {root, nodes, edges, truncated}.")
@pass_app
def graph_cmd(app: App, task_id: str | None, depth: int, limit: int, as_json: bool) -> None:
    """A task's dependencies: its ancestors above it, its descendants indented below."""
    from ..services import graph

    view = graph.graph(app.ctx, app.board, app.task_id(task_id), depth=depth, limit=limit)
    if as_json:
        emit_json(view)
    else:
        click.echo("\n".join(graph_lines(view)))


@click.command("context")
@click.argument("task_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print {task_id, context}.")
@pass_app
def context_cmd(app: App, task_id: str | None, as_json: bool) -> None:
    """Print the worker context document of a task."""
    doc = app.read("context", task_id)
    if as_json:
        emit_json(doc)
    else:
        click.echo(doc["context"], nl=False)


@click.command("assign")
@click.argument("task_id")
@click.argument("profile")
@pass_app
def assign(app: App, task_id: str, profile: str) -> None:
    """Assign a task to a profile ('none' to unassign)."""
    click.echo(task_line(app.write("assign", task=task_id, profile=profile)["task"]))


@click.command("edit")
@click.argument("task_id")
@click.option("--title")
@long_text("body", "New Markdown description.")
@long_text("result", "New result text.")
@click.option("--max-cost-usd", default=None, help="Set the task's spending limit in dollars ('none' clears it).")
@pass_app
def edit(app: App, task_id: str, title: str | None, body: str | None, result: str | None,
         max_cost_usd: str | None) -> None:
    """Edit a task's title, body, result or spending limit."""
    if title is None and body is None and result is None and max_cost_usd is None:
        raise click.UsageError("nothing to edit: give --title, --body (or --body-file), --result "
                               "(or --result-file) or --max-cost-usd")
    from ..services import tasks

    click.echo(task_line(tasks.edit(app.ctx, app.board, app.task_id(task_id), title=title,
                                    body=body, result=result, max_cost_usd=max_cost_usd)))


@click.command("priority")
@click.argument("task_id")
@click.argument("value", type=int)
@pass_app
def priority(app: App, task_id: str, value: int) -> None:
    """Set a task's priority (higher runs first)."""
    from ..services import tasks

    click.echo(task_line(tasks.reprioritize(app.ctx, app.board, app.task_id(task_id), value)))


@click.command("runs")
@click.argument("task_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def runs_cmd(app: App, task_id: str | None, as_json: bool) -> None:
    """The attempts made at a task."""
    from ..services import runs

    result = runs.list_runs(app.ctx, app.board, app.task_id(task_id))
    if as_json:
        emit_json({"runs": [r.to_dict() for r in result]})
        return
    # An attempt's kind (a review, an acceptance run, an approval) only where there are checks.
    kinds = any(r.kind != "work" for r in result)
    table(None, ["run", *(["kind"] if kinds else []), "profile", "outcome", "duration", "summary",
                 "handoff", "error"],
          [[r.id, *([r.kind] if kinds else []), r.profile, r.outcome or r.status,
            f"{(r.ended_at or app.ctx.now()) - r.started_at:.1f}s",
            r.summary or "", pairs(r.metadata, "; "), r.error or ""] for r in result])


@click.command("stats")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def stats(app: App, as_json: bool) -> None:
    """Counts by status and assignee, and the age of the oldest ready task."""
    from ..services import views

    data = views.stats(app.ctx, app.board)
    if as_json:
        emit_json(data)
        return
    table(f"board {app.board}", ["status", "tasks"], [[k, v] for k, v in data["by_status"].items()])
    if data["by_assignee"]:
        table(None, ["assignee", "tasks"],
              [[name or "(unassigned)", counts(c)] for name, c in data["by_assignee"].items()])
    if data["oldest_ready_age_seconds"] is not None:
        click.echo(f"oldest ready task: {data['oldest_ready_age_seconds']}s")


@click.command("assignees")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def assignees(app: App, as_json: bool) -> None:
    """Profiles and assignees with their task counts."""
    from ..services import views

    data = views.assignees(app.ctx, app.board)
    if as_json:
        emit_json({"assignees": data})
        return
    table(None, ["name", "profile", "counts"],
          [[a["name"], "yes" if a["on_disk"] else "", counts(a["counts"])] for a in data])

