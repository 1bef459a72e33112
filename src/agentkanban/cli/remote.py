"""``kanban --server URL`` (or ``$KANBAN_URL``): the worker's verbs as calls to ``kanban serve``.

The server's answer is the document the local command would have built (``services/verbs.py``);
an error answer names its class, raised here again with the server's message, so ``kanban``
prints and exits exactly as it would locally.

Credentials: inside a worker (``$KANBAN_TASK_ID``, ``$KANBAN_RUN_ID``, ``$KANBAN_RUN_TOKEN``) the
run token and run id, never the API token; otherwise ``--token`` or ``$KANBAN_TOKEN`` and the
operator's name in ``X-Kanban-Actor``. Tokens are never printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import click

from .. import errors

# The verbs that run remotely; every other command runs only where the database is.
REMOTE_COMMANDS = frozenset({"show", "context", "heartbeat", "comment", "create", "complete",
                             "block", "session", "usage", "approve", "request-changes", "attach",
                             "list", "ls", "move", "assign", "unblock", "archive", "approve-start",
                             "mcp"})
TIMEOUT_SECONDS = 30.0
UNAVAILABLE_EXIT = 69  # as cli/__init__.py's: the dispatcher retries such an attempt later


class Unavailable(click.ClickException):
    exit_code = UNAVAILABLE_EXIT


def error_for(status: int, body: Any) -> errors.KanbanError:
    """The product's exception that the server's answer names (by class, else by status)."""
    detail = body.get("detail") if isinstance(body, dict) else None
    message = detail if isinstance(detail, str) else f"the server answered HTTP {status}"
    name = body.get("error") if isinstance(body, dict) else None
    cls = getattr(errors, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, errors.KanbanError) and cls is not errors.UnknownCards:
        return cls(message)
    by_status: dict[int, type[errors.KanbanError]] = {
        400: errors.ValidationError, 401: errors.Unauthorized, 403: errors.Forbidden,
        404: errors.NotFound, 409: errors.Conflict, 413: errors.ValidationError,
        422: errors.ValidationError, 503: errors.StorageError}
    return by_status.get(status, errors.KanbanError)(message)


@contextmanager
def _opened(path: Path | None) -> Iterator[IO[bytes] | None]:
    """The file to send as a body (httpx streams it with its Content-Length), or None."""
    if path is None:
        yield None
        return
    with path.open("rb") as fh:
        yield fh


class Remote:
    def __init__(self, url: str, *, board: str | None, token: str | None,
                 actor: str = "user", deadline_seconds: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.board = board
        self.deadline_seconds = deadline_seconds
        run_id, run_token = os.environ.get("KANBAN_RUN_ID"), os.environ.get("KANBAN_RUN_TOKEN")
        self.worker = bool(os.environ.get("KANBAN_TASK_ID"))
        if self.worker:  # a worker proves its attempt; the API token is never sent from one
            self.headers = {"Authorization": f"Bearer {run_token}",
                            "X-Kanban-Run-Id": str(run_id)} if run_id and run_token else {}
        else:
            self.headers = {"X-Kanban-Actor": actor}
            if token:
                self.headers["Authorization"] = f"Bearer {token}"

    def get(self, verb: str, task_ref: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self._call("GET", f"/api/verbs/{verb}/{quote(task_ref, safe='')}", None)

    def list_tasks(self, query: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in query.items() if v is not None and v != [] and v is not False}
        return self._call("GET", "/api/verbs/list", None, params)

    def post(self, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/api/verbs/{verb}", body)

    def upload(self, verb: str, file: Path, *, task: str, filename: str) -> dict[str, Any]:
        """POST ``file``'s bytes as the request body, streamed from the file (opened again for
        each try)."""
        # A name that is not valid text (undecodable bytes in a file name) is sent as its bytes,
        # for the server to refuse as it refuses any invalid text, not to fail here.
        query = urlencode({"task": task, "filename": filename.encode("utf-8", "surrogateescape")})
        return self._call("POST", f"/api/verbs/{verb}?{query}", None, upload=file)

    def _call(self, method: str, path: str, body: dict[str, Any] | None,
              query: dict[str, Any] | None = None, *, upload: Path | None = None) -> dict[str, Any]:
        """One request; a refused connection or a timeout is tried again with backoff until the
        deadline (the verbs are idempotent or fenced), then exit 69."""
        import httpx

        from ..httpclient import tls_context

        params = {**(query or {}), **({"board": self.board} if self.board else {})}
        url = self.url + path
        if "?" in path and params:  # a query encoded already (an upload's): httpx would drop it
            url, params = f"{url}&{urlencode(params, doseq=True)}", {}
        delay, give_up = 0.2, time.monotonic() + self.deadline_seconds
        while True:
            try:
                with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                                  verify=tls_context()) as client, \
                        _opened(upload) as content:
                    headers = self.headers if content is None else \
                        {**self.headers, "Content-Type": "application/octet-stream"}
                    resp = client.request(method, url, params=params or None, json=body,
                                          content=content, headers=headers)
            except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as err:
                if time.monotonic() + delay > give_up:
                    raise Unavailable(f"the board's server at {self.url} is unreachable "
                                      f"({type(err).__name__}); nothing was changed, retry later") from None
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except httpx.HTTPError as err:
                raise click.UsageError(f"cannot reach {self.url}: {err}") from None
            try:
                data = resp.json()
            except ValueError:
                data = None
            if resp.status_code == 503 and time.monotonic() + delay <= give_up:
                time.sleep(delay)  # the server's database stayed away through its own retries
                delay = min(delay * 2, 5.0)
                continue
            if resp.status_code == 503:
                raise Unavailable(f"{error_for(503, data).message}; the board's database stayed "
                                  "unreachable through retries, try again later")
            if resp.status_code == 404 and not (isinstance(data, dict) and data.get("error")):
                raise errors.NotFound(f"{self.url} has no {path.split('?')[0]}: is it a `kanban "
                                      "serve` of this version?")
            if resp.status_code >= 400:
                raise error_for(resp.status_code, data)
            if not isinstance(data, dict):
                raise errors.KanbanError(f"the server at {self.url} answered no JSON document; "
                                         "is it a `kanban serve`?")
            return data
