"""Dispatcher and worker-protocol commands: dispatch, daemon, heartbeat, reclaim, reassign, log."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
from typing import Any

import click

from .app import App, emit_json, pass_app


def _render_pass(data: dict[str, Any]) -> None:
    if data["skipped_locked"]:
        click.echo("another pass is running in this process; nothing done")
        return
    verb = "would spawn" if data["dry_run"] else "spawned"
    click.echo(f"{verb} {len(data['spawned'])}, promoted {data['promoted']}, "
               f"reclaimed {data['reclaimed']}")
    for s in data["spawned"]:
        where = f" in {s['workspace']}" if s.get("workspace") else ""
        pid = f" (pid {s['pid']})" if s.get("pid") else ""
        click.echo(f"  {verb} {s['id']} -> {s['assignee']}{where}{pid}")
    for key in ("crashed", "protocol_violation", "timed_out", "rate_limited", "spawn_failed",
                "auto_blocked", "terminated", "cooling_down", "waiting_for_exit"):
        if data[key]:
            click.echo(f"  {key.replace('_', ' ')}: {', '.join(data[key])}")
    if data["skipped_unassigned"]:
        click.echo(f"  unassigned (stay ready): {', '.join(data['skipped_unassigned'])}")
    for d in data["skipped_nonspawnable"]:
        click.echo(f"  {d['id']}: assignee {d['assignee']!r} is not a configured profile (stays ready)")
    if data["skipped_capped"]:
        click.echo(f"  waiting for capacity: {len(data['skipped_capped'])}")
    for h in data.get("held", []):
        click.echo(f"  {h['id']}: held ({h['reason']})")
    if data.get("cost_limit_blocked"):
        click.echo(f"  blocked at their cost limit: {', '.join(data['cost_limit_blocked'])}")
    for e in data["errors"]:
        click.echo(f"  error: {e}", err=True)


@click.command("dispatch")
@click.option("--dry-run", is_flag=True, help="Show what would be spawned; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the pass result as JSON.")
@click.option("--max", "max_spawn", type=click.IntRange(min=0), default=None,
              help="Spawn at most N workers in this pass.")
@click.option("--all-boards", is_flag=True, help="Every board, not only the current one.")
@pass_app
def dispatch(app: App, dry_run: bool, as_json: bool, max_spawn: int | None, all_boards: bool) -> None:
    """Run one dispatcher pass: settle running attempts, promote, claim and spawn ready tasks."""
    from ..dispatch import Dispatcher

    # The pass result already lists skipped tasks; the log only adds real trouble.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s: %(message)s", stream=sys.stderr)
    result = Dispatcher(app.ctx).tick(dry_run=dry_run, max_spawn=max_spawn,
                                      board=None if all_boards else app.board)
    data = dataclasses.asdict(result)
    if as_json:
        emit_json(data)
    else:
        _render_pass(data)


@click.command("daemon")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes when nothing wakes the loop (default: dispatch.interval_seconds).")
@click.option("-v", "--verbose", is_flag=True, help="Log every spawn and every ended attempt.")
@pass_app
def daemon(app: App, interval: float | None, verbose: bool) -> None:
    """Run the dispatcher loop over every board until interrupted (SIGINT or SIGTERM).

    Workers keep running when the daemon stops; the next daemon picks them up.
    """
    from ..dispatch import Dispatcher
    from ..services import configwatch
    from .serve import raise_open_file_limit, watch_hup

    raise_open_file_limit()  # the loop and the workers it starts share this process's limit
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)

    def adjust(s: Any) -> Any:  # --interval wins over config.yaml, at start and on each reload
        if interval is None:
            return s
        return dataclasses.replace(s, dispatch=dataclasses.replace(s.dispatch, interval_seconds=interval))

    app.settings = adjust(app.settings)  # before app.ctx, which is built from these settings
    watch = configwatch.ConfigWatch(app.ctx, adjust=adjust)
    d = Dispatcher(app.ctx, config=watch)
    loop = configwatch.WatchLoop(watch)
    threading.Thread(target=loop.run, name="kanban-config", daemon=True).start()
    watch_hup(loop)

    def _stop(signum: int, _frame: Any) -> None:
        loop.stop()
        d.stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"dispatcher running (pid {__import__('os').getpid()}); Ctrl-C to stop", err=True)
    d.run()
    from ..services import health
    from .serve import workers_keep_running

    try:
        n = health.open_attempts(app.ctx)
        left = "no worker was running" if n == 0 else \
            f"{workers_keep_running(n)}; the next dispatcher picks up what {'it reports' if n == 1 else 'they report'}"
    except Exception:  # the database went away: still say that the loop stopped
        left = "running workers keep running"
    click.echo(f"dispatcher stopped; {left}", err=True)


@click.command("heartbeat")
@click.argument("task_id", required=False)
@click.option("--note", default=None, help="What the worker is doing (shown in the task history).")
@click.option("--data", default=None, metavar="JSON",
              help="Checkpoint data (JSON) kept with the attempt and shown to later attempts.")
@click.option("--progress", default=None, metavar="DONE/TOTAL",
              help="Steps done of the total, such as 3/12: a progress bar on the task's card.")
@pass_app
def heartbeat(app: App, task_id: str | None, note: str | None, data: str | None,
              progress: str | None) -> None:
    """Say the worker is alive and extend its lease (inside a worker the id defaults to its task).

    A --note or --data is also the attempt's checkpoint: a retry's context shows the latest;
    the card shows the last note, its age and the --progress bar."""
    beat = app.write("heartbeat", task=app.task_ref(task_id), note=note, data=data,
                     progress=progress)
    click.echo(f"{beat['task_id']}: lease extended until {_clock(beat['claim_expires'])}")


def _clock(ts: float | None) -> str:
    import time

    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "-"


def _stop_worker(app: App, pid: int | None, run: Any) -> str:
    from ..dispatch.stopping import stop_worker

    said = stop_worker(app.settings.dispatch.kill_grace_seconds, pid, run)
    return f"; {said}" if said else ""


@click.command("reclaim")
@click.argument("task_id")
@click.option("--reason", default=None, help="Why (kept in the run history).")
@pass_app
def reclaim(app: App, task_id: str, reason: str | None) -> None:
    """End a running task's current attempt, stop its worker, and put the task back to ready."""
    from ..services import runs

    tid = app.task_id(task_id)
    before = runs.list_runs(app.ctx, app.board, tid)
    task, pid = runs.reclaim(app.ctx, app.board, tid, actor=app.actor, reason=reason)
    run = before[-1] if before else None
    click.echo(f"{task.id}: reclaimed, now {task.status.value}{_stop_worker(app, pid, run)}")


@click.command("reassign")
@click.argument("task_id")
@click.argument("profile")
@click.option("--reclaim", "do_reclaim", is_flag=True, help="If it is running, end that attempt first.")
@pass_app
def reassign(app: App, task_id: str, profile: str, do_reclaim: bool) -> None:
    """Give a task to another profile (resets its failure count)."""
    from ..services import dispatching, runs

    tid = app.task_id(task_id)
    before = runs.list_runs(app.ctx, app.board, tid)
    task, pid = dispatching.reassign(app.ctx, app.board, tid, profile, actor=app.actor,
                                     reclaim=do_reclaim)
    run = before[-1] if before else None
    known = {name.strip().lower() for name in app.settings.profiles}
    note = "" if profile.strip().lower() in known else \
        f" (warning: no profile named {profile!r} is configured; it will stay ready)"
    click.echo(f"{task.id}: assigned to {task.assignee}, {task.status.value}"
               f"{_stop_worker(app, pid, run)}{note}")


@click.command("log")
@click.argument("task_id", required=False)
@click.option("--tail", "tail_bytes", type=click.IntRange(min=1), default=None, metavar="BYTES",
              help="Only the last BYTES bytes.")
@click.option("--json", "as_json", is_flag=True, help="Print {task_id, path, exists, size_bytes, content, truncated}.")
@pass_app
def log_cmd(app: App, task_id: str | None, tail_bytes: int | None, as_json: bool) -> None:
    """Print a task's worker log (stdout and stderr of every attempt)."""
    from ..dispatch.logs import read_log

    data = read_log(app.ctx, app.board, app.task_id(task_id), tail_bytes)
    if as_json:
        emit_json(data)
    elif not data["exists"]:
        click.echo(f"{data['task_id']}: no log yet (no worker has run)", err=True)
    else:
        if data["truncated"]:
            click.echo(f"[... showing the last {tail_bytes} of {data['size_bytes']} bytes]", err=True)
        click.echo(data["content"], nl=False)
