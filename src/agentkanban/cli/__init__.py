"""The ``kanban`` command. Sub-commands load lazily so ``kanban list`` never imports FastAPI.

Exit codes and error lines, mapped here and nowhere else: 0 success, 1 refused operation (not
found, conflict, forbidden, storage), 2 bad usage or bad input. Every failure, click's usage
errors included, is one ``error: ...`` line on stderr that says what to do (see :func:`fail`).
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any, NoReturn

import click

from ..errors import CommitOutcomeUnknown, KanbanError, StorageError, ValidationError

# name -> "module:attribute"; each module keeps its commands thin (parse, call a service, render).
COMMANDS: dict[str, str] = {
    "init": "agentkanban.cli.tasks:init_cmd",
    "boards": "agentkanban.cli.boards:boards",
    "create": "agentkanban.cli.tasks:create",
    "list": "agentkanban.cli.tasks:list_cmd",
    "ls": "agentkanban.cli.tasks:list_cmd",
    "show": "agentkanban.cli.tasks:show",
    "graph": "agentkanban.cli.tasks:graph_cmd",
    "context": "agentkanban.cli.tasks:context_cmd",
    "assign": "agentkanban.cli.tasks:assign",
    "edit": "agentkanban.cli.tasks:edit",
    "priority": "agentkanban.cli.tasks:priority",
    "label": "agentkanban.cli.labels:label",
    "labels": "agentkanban.cli.labels:labels",
    "due": "agentkanban.cli.labels:due",
    "move": "agentkanban.cli.status:move",
    "link": "agentkanban.cli.status:link",
    "unlink": "agentkanban.cli.status:unlink",
    "comment": "agentkanban.cli.status:comment",
    "complete": "agentkanban.cli.status:complete",
    "block": "agentkanban.cli.status:block",
    "unblock": "agentkanban.cli.status:unblock",
    "archive": "agentkanban.cli.status:archive",
    "promote": "agentkanban.cli.status:promote",
    "approve": "agentkanban.cli.review:approve",
    "request-changes": "agentkanban.cli.review:request_changes",
    "approve-start": "agentkanban.cli.review:approve_start",
    "runs": "agentkanban.cli.tasks:runs_cmd",
    "stats": "agentkanban.cli.tasks:stats",
    "assignees": "agentkanban.cli.tasks:assignees",
    "watch": "agentkanban.cli.watch:watch",
    "tail": "agentkanban.cli.watch:tail",
    "activity": "agentkanban.cli.watch:activity",
    "gc": "agentkanban.cli.db:gc",
    "db": "agentkanban.cli.db:db",
    "notify-subscribe": "agentkanban.cli.notify:notify_subscribe",
    "notify-unsubscribe": "agentkanban.cli.notify:notify_unsubscribe",
    "notify-list": "agentkanban.cli.notify:notify_list",
    "notify-retry": "agentkanban.cli.notify:notify_retry",
    "notifier": "agentkanban.cli.notify:notifier",
    "dispatch": "agentkanban.cli.worker:dispatch",
    "daemon": "agentkanban.cli.worker:daemon",
    "heartbeat": "agentkanban.cli.worker:heartbeat",
    "reclaim": "agentkanban.cli.worker:reclaim",
    "reassign": "agentkanban.cli.worker:reassign",
    "runner": "agentkanban.cli.runner:runner",
    "runners": "agentkanban.cli.runners:runners",
    "log": "agentkanban.cli.worker:log_cmd",
    "session": "agentkanban.cli.costs:session_cmd",
    "usage": "agentkanban.cli.costs:usage",
    "attach": "agentkanban.cli.attach:attach",
    "attachments": "agentkanban.cli.attach:list_attachments",
    "delete": "agentkanban.cli.attach:delete",
    "defer": "agentkanban.cli.orchestrate:defer",
    "specify": "agentkanban.cli.orchestrate:specify",
    "decompose": "agentkanban.cli.orchestrate:decompose",
    "mcp": "agentkanban.cli.agent:mcp_cmd",
    "instructions": "agentkanban.cli.agent:instructions",
    "serve": "agentkanban.cli.serve:serve",
    "status": "agentkanban.cli.ops:status",
    "doctor": "agentkanban.cli.ops:doctor",
    "backup": "agentkanban.cli.ops:backup",
    "restore": "agentkanban.cli.ops:restore",
    "export": "agentkanban.cli.ops:export",
    "import": "agentkanban.cli.ops:import_cmd",
    "schedule": "agentkanban.cli.schedule:schedule",
}


class LazyGroup(click.Group):
    # Set by main() when it runs as the program, not when a caller (a test) passes the arguments.
    freeze_imports = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        if self.freeze_imports:
            # What was just imported (SQLAlchemy and the services: ~45,000 objects) lives until
            # exit. Frozen, the cyclic GC stops walking it on each full pass and in the passes at
            # interpreter exit: 60-80 ms of `kanban list` at 10,000 tasks. Objects made later (the
            # engine, its connections) are collected as before.
            gc.freeze()
        return command  # type: ignore[no-any-return]


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--board", "board", default=None, metavar="SLUG",
              help="Board to act on (default: $KANBAN_BOARD, then `kanban boards switch`, then 'default').")
@click.option("--server", "server", default=None, envvar="KANBAN_URL", metavar="URL",
              help="Act through this `kanban serve` (default: $KANBAN_URL) instead of the "
                   "database; the worker's verbs only.")
@click.option("--token", "token", default=None, envvar="KANBAN_TOKEN", metavar="TOKEN",
              show_envvar=False, help="The server's API token with --server (default: $KANBAN_TOKEN).")
@click.version_option(package_name="agentkanban", prog_name="kanban")
@click.pass_context
def cli(ctx: click.Context, board: str | None, server: str | None, token: str | None) -> None:
    """agentkanban: a durable work board for people and AI agent workers."""
    from .app import App

    if server and ctx.invoked_subcommand:
        from .remote import REMOTE_COMMANDS

        name = ctx.invoked_subcommand
        if name not in REMOTE_COMMANDS:
            raise click.UsageError(f"`kanban {name}` runs only where the board's database is, "
                                   f"not through --server/$KANBAN_URL; the server runs "
                                   f"{', '.join(sorted(REMOTE_COMMANDS))}")
    ctx.obj = App(board_flag=board, server=server or None, token=token or None)
    if LazyGroup.freeze_imports:
        # Frozen objects are out of the exit-time collection that would otherwise close the
        # connections (and let SQLite checkpoint and remove its WAL file): close them ourselves.
        ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> Any:
    LazyGroup.freeze_imports = argv is None
    for stream in (sys.stdout, sys.stderr):
        # Text stored before invalid text was refused prints as U+FFFD, never a traceback.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        return _run(argv)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.Abort:
        fail("aborted; nothing more was done", 1)
    except click.UsageError as e:
        if type(e).__name__ == "NoArgsIsHelpError" and e.ctx is not None:  # `kanban boards` alone
            click.echo(e.ctx.get_help())
            sys.exit(0)
        fail(usage_message(e, sys.argv[1:] if argv is None else argv), 2)
    except click.ClickException as e:
        fail(e.format_message(), e.exit_code)
    except KanbanError as e:
        unknown = isinstance(e, CommitOutcomeUnknown)  # its message says what to do
        unreachable = unknown or (isinstance(e, StorageError) and _transient(e))
        hint = ("; the database stayed unreachable through retries, try again later"
                if unreachable and not unknown else "")
        fail(f"{e.message}{hint}", 2 if isinstance(e, ValidationError) else UNAVAILABLE_EXIT if unreachable else 1)
    except Exception as e:
        if not _transient(e):
            raise
        fail(f"the board's database is unreachable ({e}); nothing was changed, retry later",
             UNAVAILABLE_EXIT)


def fail(message: str, code: int) -> NoReturn:
    """The one way a command fails: ``error: <what happened and what to do>`` on stderr, then exit.

    The message is one line (line breaks inside it are folded); at a terminal it is wrapped to the
    terminal's width, never cut. Piped or logged it stays one line, whole."""
    text = "error: " + " ".join(message.split())
    if sys.stderr.isatty():
        import textwrap

        text = textwrap.fill(text, width=_stderr_width(), subsequent_indent="  ",
                             break_long_words=False, break_on_hyphens=False)
    click.echo(text, err=True)
    sys.exit(code)


def _stderr_width() -> int:
    """The width of the terminal stderr writes to ($COLUMNS when set), at least 40."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 40)
    try:
        return max(os.get_terminal_size(sys.stderr.fileno()).columns, 40)
    except (OSError, ValueError):
        return 80


def usage_message(e: click.UsageError, argv: list[str]) -> str:
    """Click's usage errors as one line that says what to pass, without the usage dump."""
    ctx = e.ctx
    path = ctx.command_path if ctx else _command_path(argv)
    help_hint = f"`{path} --help` lists what it takes"
    param = getattr(e, "param", None)
    if isinstance(e, click.MissingParameter) and ctx is not None and param is not None:
        if isinstance(param, click.Argument):
            usage = " ".join(ctx.command.collect_usage_pieces(ctx))
            return f"missing {_param_name(param)}: run `{path} {usage}`"
        return f"missing option {_param_name(param)}; {help_hint}"
    if isinstance(e, click.BadParameter) and param is not None:
        return f"invalid value for {_param_name(param)}: {_sentence(e.message)}; {help_hint}"
    if isinstance(e, click.NoSuchOption):
        close = f" (did you mean {', '.join(sorted(e.possibilities))}?)" if e.possibilities else ""
        return f"no such option {e.option_name}{close}; {help_hint}"
    text = _sentence(e.format_message())
    # Click's own messages start with a capital; ours already say what to do.
    return f"{text[0].lower()}{text[1:]}; {help_hint}" if text[:1].isupper() else text


def _command_path(argv: list[str]) -> str:
    """``kanban list`` for ``["--board", "x", "list", "--limit"]``: where click gave no context."""
    words = [a for a in argv if not a.startswith("-")]
    names = [w for w in words[:3] if w in COMMANDS]
    if not names:
        return "kanban"
    path = ["kanban", names[0]]
    command = cli.get_command(click.Context(cli), names[0])
    after = words[words.index(names[0]) + 1:][:1]
    if isinstance(command, click.Group) and after and after[0] in command.commands:
        path.append(after[0])
    return " ".join(path)


def _param_name(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return (param.name or "argument").upper()
    return max(param.opts, key=len)


def _sentence(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


# Exit status when the database stayed unreachable through the retries (EX_UNAVAILABLE): the
# dispatcher retries such an attempt later without counting it against the task.
UNAVAILABLE_EXIT = 69
# Commands that run until stopped handle database outages inside their own loops.
LONG_RUNNING = frozenset({"serve", "daemon", "watch", "tail", "notifier", "mcp", "runner"})


def _transient(err: BaseException) -> bool:
    from ..store.transient import is_transient

    return is_transient(err)


def _run(argv: list[str] | None) -> Any:
    """Run the command; one that fails on a transient database error (a restart, a dropped
    connection) runs again with backoff for up to a minute. Each command's change is one
    transaction, and the worker's terminal verbs are idempotent, so a repeat is safe."""
    def call() -> Any:
        return cli.main(args=argv, prog_name="kanban", standalone_mode=False)

    try:
        return call()
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except Exception as err:
        args = sys.argv[1:] if argv is None else argv
        if any(a in LONG_RUNNING for a in args[:3]) or not _transient(err):
            raise
    import time

    from ..config import load_settings
    from ..services.base import retry_policy
    from ..store.transient import RetryPolicy

    try:
        policy = retry_policy(load_settings())
    except KanbanError:
        policy = RetryPolicy()
    time.sleep(min(policy.first_delay, policy.deadline_seconds))
    return policy.run(call)
