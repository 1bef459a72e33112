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
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Settings
from ..errors import ValidationError
from ..services import Ctx
from .server import KanbanMCP, ToolChoice, build_server


class McpHttpApp:
    """An ASGI app: checks ``Authorization: Bearer <token>``, then hands over to the MCP app."""

    def __init__(self, server: KanbanMCP, make_inner: Callable[[], ASGIApp], token: str) -> None:
        self.server = server
        self._make_inner = make_inner
        self.inner = make_inner()
        self._started = False
        self._token = token.encode()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        # The SDK's session manager runs once per instance; a host app may start again (tests
        # do, with a fresh client each time), so each start gets a fresh one.
        if self._started:
            self.inner = self._make_inner()
        self._started = True
        async with self.server.session_manager.run():
            yield

    def _authorized(self, scope: Scope) -> bool:
        for key, value in scope.get("headers") or ():
            if key == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            body = json.dumps({"detail": "missing or invalid bearer token"}).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="kanban"')]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.inner(scope, receive, send)


def http_app(settings: Settings, token: str | None, *, path: str = "/mcp", tools: ToolChoice = "core",
             host: str = "127.0.0.1", ctx: Ctx | None = None, **options: Any) -> McpHttpApp:
    """The MCP endpoint at ``path``; every request must carry ``token`` as a bearer token.

    ``host`` is where it listens: on a loopback address the SDK also refuses requests whose
    ``Host`` header is not loopback (DNS rebinding). ``options`` go to the SDK's
    ``streamable_http_app`` (e.g. ``json_response=True``).
    """
    if not token:
        raise ValidationError("the MCP HTTP endpoint needs a token: set KANBAN_TOKEN or token: in config.yaml")
    server = build_server(settings, tools=tools, ctx=ctx)
    return McpHttpApp(
        server, lambda: server.streamable_http_app(streamable_http_path=path, host=host, **options), token)
