"""The MCP server over streamable HTTP, behind a bearer token.

Standalone, ``kanban mcp --http`` serves :func:`http_app` with uvicorn. To embed it in another
Starlette or FastAPI app (``kanban serve`` at ``/mcp``), add it as a route, not a mount (a mount
answers ``/mcp`` with a redirect to ``/mcp/``), and enter its lifespan in the host's: Starlette
does not run the lifespan of an app it routes to, and the MCP session manager must be running
before the first request::

    mcp_app = http_app(settings, token, ctx=ctx)          # serves the path "/mcp"
    app.router.routes.append(Route("/mcp", mcp_app))        # an ASGI app, any method

    @asynccontextmanager
    async def lifespan(app):
        async with mcp_app.lifespan():
            yield

Two kinds of caller: the operator's token opens the orchestrator's tools; a worker's run token
with its run id (``X-Kanban-Run-Id``, as on the verbs routes) opens that worker's own tools,
acting for its attempt exactly as ``kanban mcp`` inside a local worker does. That is how a worker
on another host, or one that may not open the database, uses MCP (``kanban --server URL mcp``
relays its stdio here, see :mod:`.relay`).
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Secret, Settings, WorkerEnv
from ..errors import KanbanError, Unauthorized, ValidationError
from ..services import Ctx, open_ctx, runs
from .server import KanbanMCP, ToolChoice, build_server

RUN_ID_HEADER = b"x-kanban-run-id"
TOOLS_HEADER = b"x-kanban-tools"  # "core" (the default) or "all", as `kanban mcp --tools`
WORKER_SERVERS_MAX = 256  # attempts served at once; the least recently used one makes room
WORKER_IDLE_SECONDS = 600.0  # a worker's server unused this long is let go (made again on use)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1")).strip()
    return ""


def _bearer(scope: Scope) -> bytes | None:
    scheme, _, given = _header(scope, b"authorization").encode("latin-1").partition(b" ")
    return given.strip() if scheme.lower() == b"bearer" and given.strip() else None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    challenge = [(b"www-authenticate", b'Bearer realm="kanban"')] if status == 401 else []
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *challenge]})
    await send({"type": "http.response.body", "body": body})


@dataclasses.dataclass
class _Hosted:
    """One worker attempt's MCP server, its HTTP app and the scope that keeps it running."""

    token: bytes
    app: ASGIApp
    scope: anyio.CancelScope
    used: float


class WorkerServers:
    """An MCP server per worker attempt that calls with its run token, made on first use and
    kept while used (stateless JSON: nothing a worker sends outlives its request)."""

    def __init__(self, ctx: Ctx, settings: Settings, path: str, host: str) -> None:
        self.ctx = ctx
        self.settings = settings
        self.path = path
        self.host = host
        self.hosted: dict[tuple[int, str], _Hosted] = {}
        self.lock = anyio.Lock()
        self.group: TaskGroup | None = None

    async def app_for(self, run_id: str, token: bytes, tools: str) -> ASGIApp:
        """The app for this attempt's worker; :class:`KanbanError` when the token proves none."""
        choice = "all" if tools == "all" else "core"
        try:
            key = (int(run_id), choice)
        except ValueError:
            key = (-1, choice)
        async with self.lock:
            found = self.hosted.get(key)
            if found is not None and hmac.compare_digest(found.token, token):
                found.used = time.monotonic()
                return found.app
            actor, board = await anyio.to_thread.run_sync(
                runs.worker_actor, self.ctx, run_id, token.decode("latin-1"))
            worker = WorkerEnv(task_id=actor.worker_task or "", run_id=actor.run_id,
                               token=Secret(token.decode("latin-1")), profile=actor.name, board=board)
            server = build_server(dataclasses.replace(self.settings, board=board, worker=worker),
                                  tools=choice, ctx=self.ctx, local_files=False)  # type: ignore[arg-type]
            app = server.streamable_http_app(streamable_http_path=self.path, host=self.host,
                                             stateless_http=True, json_response=True)
            assert self.group is not None, "the MCP app's lifespan is not running"
            scope = await self.group.start(self._run, server)
            self._make_room(key)
            self.hosted[key] = _Hosted(token, app, scope, time.monotonic())
            return app

    def _make_room(self, key: tuple[int, str]) -> None:
        now = time.monotonic()
        old = self.hosted.pop(key, None)
        if old is not None:
            old.scope.cancel()
        for k, h in list(self.hosted.items()):
            if now - h.used > WORKER_IDLE_SECONDS:
                self.hosted.pop(k).scope.cancel()
        while len(self.hosted) >= WORKER_SERVERS_MAX:
            k = min(self.hosted, key=lambda k: self.hosted[k].used)
            self.hosted.pop(k).scope.cancel()

    @staticmethod
    async def _run(server: KanbanMCP, *, task_status: TaskStatus[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            async with server.session_manager.run():
                task_status.started(scope)
                await anyio.sleep_forever()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            self.group = group
            try:
                yield
            finally:
                self.hosted.clear()
                self.group = None
                group.cancel_scope.cancel()


class McpHttpApp:
    """An ASGI app: checks ``Authorization: Bearer <token>``, then hands over to the MCP app (the
    operator's), or to the worker's when the bearer is a run token with its run id."""

    def __init__(self, server: KanbanMCP, make_inner: Callable[[], ASGIApp], token: str,
                 workers: WorkerServers) -> None:
        self.server = server
        self._make_inner = make_inner
        self.inner = make_inner()
        self._started = False
        self._token = token.encode()
        self.workers = workers

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        # The SDK's session manager runs once per instance; a host app may start again (tests
        # do, with a fresh client each time), so each start gets a fresh one.
        if self._started:
            self.inner = self._make_inner()
        self._started = True
        async with self.server.session_manager.run(), self.workers.running():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        given = _bearer(scope)
        if given is not None and hmac.compare_digest(given, self._token):
            await self.inner(scope, receive, send)
            return
        run_id = _header(scope, RUN_ID_HEADER)
        if given is None or not run_id:
            await _refuse(send, 401, "missing or invalid bearer token")
            return
        try:
            app = await self.workers.app_for(run_id, given, _header(scope, TOOLS_HEADER))
        except Unauthorized as err:
            await _refuse(send, 401, err.message)
            return
        except KanbanError as err:  # the database did not answer: nothing was done
            await _refuse(send, 503, f"{err.message}; retry shortly")
            return
        await app(scope, receive, send)


def http_app(settings: Settings, token: str | None, *, path: str = "/mcp", tools: ToolChoice = "core",
             host: str = "127.0.0.1", ctx: Ctx | None = None, **options: Any) -> McpHttpApp:
    """The MCP endpoint at ``path``; every request must carry ``token`` as a bearer token, or a
    worker's run token and run id.

    ``host`` is where it listens: on a loopback address the SDK also refuses requests whose
    ``Host`` header is not loopback (DNS rebinding). ``options`` go to the SDK's
    ``streamable_http_app`` (e.g. ``json_response=True``).
    """
    if not token:
        raise ValidationError("the MCP HTTP endpoint needs a token: set KANBAN_TOKEN or token: in config.yaml")
    ctx = ctx or open_ctx(settings)
    server = build_server(settings, tools=tools, ctx=ctx, local_files=False)
    return McpHttpApp(
        server, lambda: server.streamable_http_app(streamable_http_path=path, host=host, **options), token,
        WorkerServers(ctx, settings, path, host))
