"""What every command shares: settings, the service context, the resolved board, the actor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings, load_settings

if TYPE_CHECKING:  # the services (and the database driver) load only for a command that uses them:
    from ..services import Actor, Ctx  # not in remote mode (`--server`), where no database opens


class App:
    def __init__(self, board_flag: str | None = None, server: str | None = None,
                 token: str | None = None) -> None:
        self.board_flag = board_flag
        self.server = server  # set: the worker's verbs are calls to that `kanban serve`
        self.token = token

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def ctx(self) -> Ctx:
        from ..services import open_ctx

        return open_ctx(self.settings)

    def close(self) -> None:
        """Close the database connections now rather than leave them to interpreter exit."""
        if "ctx" in self.__dict__:
            self.ctx.store.dispose()

    @cached_property
    def board(self) -> str:
        from ..services import boards

        return boards.resolve(self.ctx, self.board_flag)

    @cached_property
    def actor(self) -> Actor:
        from ..services import Actor

        return Actor.from_settings(self.settings)

    @cached_property
    def remote(self) -> Any:
        """The client of ``--server``/``$KANBAN_URL`` (:class:`.remote.Remote`), or None."""
        if not self.server:
            return None
        import os

        from ..errors import KanbanError
        from .remote import Remote

        try:  # as long as a local command would retry its database
            deadline = self.settings.database_retry_seconds
        except KanbanError:
            deadline = 60.0
        board = self.board_flag or os.environ.get("KANBAN_BOARD") or None
        return Remote(self.server, board=board, token=self.token, deadline_seconds=deadline)

    def task_ref(self, ref: str | None) -> str:
        """The task a verb names; inside a worker it defaults to the worker's own task."""
        if ref:
            return ref
        import os

        own = os.environ.get("KANBAN_TASK_ID") if self.server else \
            (self.settings.worker.task_id if self.settings.worker else None)
        if not own:
            path = click.get_current_context().command_path
            raise click.UsageError(f"missing TASK_ID: give a task id, as in `{path} t_1a2b3c4d` "
                                   "(inside a worker it defaults to $KANBAN_TASK_ID)")
        return own

    def read(self, verb: str, ref: str | None) -> dict[str, Any]:
        """``show``/``context``: the document, from this database or from the server."""
        task = self.task_ref(ref)
        if self.remote is not None:
            return self.remote.get(verb, task)  # type: ignore[no-any-return]
        from ..services import verbs

        return getattr(verbs, verb)(self.ctx, self.board, task, actor=self.actor)  # type: ignore[no-any-return]

    def write(self, verb: str, **body: Any) -> dict[str, Any]:
        """A worker verb with its fields (``task`` or ``tasks``, then the options): the
        document, from this database or from the server (``web/routers/verbs.py``)."""
        if self.remote is not None:
            return self.remote.post(verb, body)  # type: ignore[no-any-return]
        from ..services import verbs

        args = [body.pop(k) for k in ("task", "tasks") if k in body]
        return getattr(verbs, verb)(self.ctx, self.board, *args, actor=self.actor, **body)  # type: ignore[no-any-return]

    def attach(self, path: Path, *, task: str, filename: str) -> dict[str, Any]:
        """``attach``: one file's ``{attachment}``, kept by this database or sent to the server
        as the request body (read again from the file if the request is retried)."""
        if self.remote is not None:
            return self.remote.upload("attach", path, task=task, filename=filename)  # type: ignore[no-any-return]
        from ..services import verbs

        return verbs.attach(self.ctx, self.board, task, actor=self.actor, filename=filename,
                            chunks=read_chunks(path))

    def list_tasks(self, **query: Any) -> dict[str, Any]:
        """``list``: ``{board, tasks}``, from this database or from the server."""
        if self.remote is not None:
            return self.remote.list_tasks(query)  # type: ignore[no-any-return]
        from ..services import verbs

        return verbs.list_tasks(self.ctx, self.board, actor=self.actor, **query)

    def task_id(self, ref: str | None) -> str:
        """Resolve a task reference; inside a worker it defaults to the worker's own task."""
        from ..services.common import resolve_id

        if not ref:
            if self.settings.worker is None:
                path = click.get_current_context().command_path
                raise click.UsageError(f"missing TASK_ID: give a task id, as in `{path} t_1a2b3c4d` "
                                       "(inside a worker it defaults to $KANBAN_TASK_ID)")
            ref = self.settings.worker.task_id
        return resolve_id(self.ctx, self.board, ref)


pass_app = click.make_pass_decorator(App)
CHUNK = 256 * 1024


def read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def emit_json(data: Any) -> None:
    """Indented JSON on stdout. orjson: the stdlib's indenting encoder is pure Python (10x slower)."""
    import orjson

    option = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    try:
        out = orjson.dumps(data, option=option, default=str)
    except orjson.JSONEncodeError:  # invalid text stored before it was refused: U+FFFD for it
        from ..domain.text import scrub

        out = orjson.dumps(scrub(data), option=option, default=lambda v: scrub(str(v)))
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
