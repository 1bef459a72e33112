"""The FastAPI application: routers mounted twice, errors mapped to HTTP in this one place.

``create_app(settings)`` builds everything; ``kanban serve`` runs it under uvicorn. The API lives
at ``/api/`` and, for tools written against the reference dashboard, again at
``/api/plugins/kanban/``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from .. import __version__
from ..config import Settings
from ..errors import (
    Conflict,
    Forbidden,
    InvalidText,
    KanbanError,
    NotFound,
    StorageError,
    TooLarge,
    Unauthorized,
    ValidationError,
)
from ..mcp.asgi import http_app
from ..services import health
from ..services.base import Ctx, open_ctx
from . import schemas as s
from . import schemas_meta as sm
from .auth import COOKIE_NAME, HostGuard, TokenSource, load_token, token_matches
from .deps import JSON
from .guard import Guard
from .limits import HeavyReads, LoginLimiter
from .routers import attachments, boards, meta, orchestration, review, runners, tasks, usage, verbs
from .routers import ops as ops_routes
from .routers import settings as settings_routes
from .shield import Shield
from .ws import EventHub, parse_ws_board, serve_connection

log = logging.getLogger(__name__)

API_PREFIXES = ("/api", "/api/plugins/kanban")
MCP_PATH = "/mcp"
STATIC_DIR = Path(__file__).parent / "static"
COOKIE_MAX_AGE = 30 * 24 * 3600

# The one mapping from the product's errors to HTTP status codes.
ERROR_STATUS: tuple[tuple[type[KanbanError], int], ...] = (
    (InvalidText, 422),  # a ValidationError, answered as the schema's own text errors are
    (TooLarge, 413),  # a ValidationError too
    (ValidationError, 400),
    (NotFound, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Conflict, 409),  # InvalidTransition is a Conflict
    (StorageError, 503),
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": s.ErrorOut, "description": "Malformed input or board slug"},
    401: {"model": s.ErrorOut, "description": "Missing or wrong token"},
    404: {"model": s.ErrorOut, "description": "No such task or board"},
    409: {"model": s.ErrorOut, "description": "The current state refuses the change"},
    403: {"model": s.ErrorOut, "description": "A cross-origin request, or a worker acting "
                                               "outside its own attempt"},
    413: {"model": s.ErrorOut, "description": "The body is larger than serve.max_body_bytes"},
    422: {"model": s.ErrorOut, "description": "The request does not match the schema, or holds "
                                              "invalid text"},
    429: {"model": s.ErrorOut, "description": "Too many refused tokens from this address"},
    503: {"model": s.ErrorOut, "description": "The database failed, or the server is busy with "
                                              "other reads (see Retry-After)"},
}


def status_for(err: KanbanError) -> int:
    for cls, code in ERROR_STATUS:
        if isinstance(err, cls):
            return code
    return 500


def create_app(settings: Settings, *, ctx: Ctx | None = None, token: TokenSource | None = None,
               bound_host: str | None = None, poll_seconds: float | None = None,
               dispatcher: Any = None) -> FastAPI:
    """Build the app. ``token`` and ``bound_host`` default to the settings' (see ``auth``).
    ``dispatcher``: the one ``kanban serve`` runs, which ``POST /dispatch`` asks for a pass."""
    ctx = ctx or open_ctx(settings)
    source = token or load_token(settings)
    hub = EventHub(ctx, **({"poll_seconds": poll_seconds} if poll_seconds else {}))
    host = bound_host if bound_host is not None else settings.serve.host
    # The agents' endpoint: the MCP tools over streamable HTTP, behind the same token (checked by
    # the MCP app itself as a bearer token; the Host check below covers it too).
    # Host is checked by the Guard for every path (allowed_hosts included), so the SDK's own
    # loopback-only Host check is not repeated here.
    mcp = http_app(settings, source.token, ctx=ctx, host="0.0.0.0", tools="all")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.start()
        try:
            async with mcp.lifespan():
                yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="agentkanban", version=__version__, lifespan=lifespan,
        description="The board's REST API and live event stream. Every `/api` route needs the "
                    "token (`Authorization: Bearer <token>` or the `kanban_token` cookie).",
        openapi_url="/api/openapi.json", # No Swagger UI page: it would load scripts from a CDN or need inline script
        # (refused by our Content-Security-Policy); /api/openapi.json feeds any OpenAPI viewer.
        docs_url=None, redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.token = source.token
    app.state.hub = hub
    app.state.dispatcher = dispatcher
    app.state.dispatcher_lock = threading.Lock()
    for prefix in API_PREFIXES:
        for r in (tasks.router, meta.router, boards.router, attachments.router,
                  orchestration.router, ops_routes.router, usage.router, review.router,
                  settings_routes.router, verbs.router, runners.router):
            app.include_router(r, prefix=prefix, responses=ERROR_RESPONSES,
                               include_in_schema=prefix == "/api")
        app.add_api_websocket_route(prefix + "/events", _events_endpoint)
    # A route, not a mount: a mount would answer /mcp with a redirect to /mcp/.
    app.router.routes.append(Route(MCP_PATH, mcp))
    _add_auth_routes(app, source.token)
    ops_routes.add_metrics_route(app, public=settings.serve.metrics_public)
    _add_pages(app)
    _add_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    hosts = HostGuard(host, settings.serve.allowed_hosts)
    app.add_middleware(Guard, token=source.token, hosts=hosts)
    serve = settings.serve
    app.state.logins = LoginLimiter(limit=serve.failed_logins_per_minute)
    app.add_middleware(Shield, allowed_origins=serve.allowed_origins,
                       max_body_bytes=serve.max_body_bytes,
                       heavy_reads=HeavyReads(serve.max_heavy_reads), logins=app.state.logins,
                       streamed_paths=[p + verbs.STREAMED_PATH for p in API_PREFIXES])
    return app


async def _events_endpoint(ws: WebSocket) -> None:
    """``/events?since=<id>&board=<slug>``: live ``{"events": [...], "cursor": N}`` batches."""
    hub: EventHub = ws.app.state.hub
    await ws.accept()
    try:
        since = int(ws.query_params.get("since") or 0)
    except ValueError:
        await ws.close(code=4400, reason="since must be an integer event id")
        return
    try:
        board = await _resolve_ws_board(hub.ctx, ws.query_params.get("board"))
    except KanbanError as err:
        await ws.close(code=4000 + status_for(err), reason=err.message[:120])
        return
    await serve_connection(ws, hub, since, board)


async def _resolve_ws_board(ctx: Ctx, raw: str | None) -> str | None:
    import asyncio

    return await asyncio.to_thread(parse_ws_board, ctx, raw)


def _cookie(response: Any, token: str) -> None:
    response.set_cookie(COOKIE_NAME, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="strict",
                        path="/")


def _add_auth_routes(app: FastAPI, token: str) -> None:
    @app.post("/api/auth/login", response_model=s.OkOut, tags=["auth"],
              responses={401: {"model": s.ErrorOut, "description": "Wrong token"}},
              summary="Exchange the token for an HttpOnly cookie")
    async def login(payload: sm.LoginIn) -> Any:
        if not token_matches(token, payload.token):
            return JSON({"detail": "wrong token"}, status_code=401)
        resp = JSON({"ok": True})
        _cookie(resp, token)
        return resp

    @app.post("/api/auth/logout", response_model=s.OkOut, tags=["auth"], summary="Forget the cookie")
    async def logout() -> Any:
        resp = JSON({"ok": True})
        resp.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return resp


def _add_pages(app: FastAPI) -> None:
    @app.get("/healthz", response_model=sm.HealthOut, tags=["health"],
             responses={503: {"model": sm.HealthOut, "description": "The database does not answer, "
                                                                   "a loop this server runs is down, "
                                                                   "or the disk is full"}},
             summary="Do the database, the dispatcher and the notifier answer; is there disk room "
                     "(no token)")
    def healthz(request: Request) -> Any:
        ctx: Ctx = request.app.state.ctx
        report = health.report(ctx, getattr(request.app.state, "loops", None))
        watch = getattr(request.app.state, "config_watch", None)
        report["config"] = watch.status() if watch is not None else None
        return JSON(report, status_code=200 if report["ok"] else 503)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index(request: Request) -> Any:
        given = request.query_params.get("token")
        if given is not None:
            if not token_matches(request.app.state.token, given):
                return RedirectResponse("/login?error=token", status_code=303)
            resp = RedirectResponse("/", status_code=303)
            _cookie(resp, request.app.state.token)
            return resp
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/login", include_in_schema=False)
    async def login_page() -> Any:
        return FileResponse(STATIC_DIR / "login.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KanbanError)
    async def kanban_error(_request: Request, err: KanbanError) -> Any:
        # A database outage is usually a restart: tell clients when to try again.
        headers = {"retry-after": "1"} if isinstance(err, StorageError) else None
        # ``error`` names the class, so a remote ``kanban`` raises the same error as a local one.
        return JSON({"detail": err.message, "error": type(err).__name__},
                    status_code=status_for(err), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, err: RequestValidationError) -> Any:
        return JSON({"detail": _describe_validation(err)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Any:
        headers = {k: v for k, v in (err.headers or {}).items()
                   if err.status_code != 405 or k.lower() != "allow"}
        if err.status_code == 405:  # every method of the path, not only the first route's
            headers["allow"] = allowed_methods(request)
        return JSON({"detail": str(err.detail)}, status_code=err.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, err: Exception) -> Any:
        log.error("unhandled error", exc_info=err)
        return JSON({"detail": "internal server error"}, status_code=500)


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: the documented methods of the path (Starlette names only
    those of the first route whose path matched)."""
    import re

    path = request.url.path
    if path.startswith(API_PREFIXES[1] + "/"):
        path = API_PREFIXES[0] + path.removeprefix(API_PREFIXES[1])
    paths = request.app.openapi().get("paths", {})
    if path in paths:  # a literal route wins over a template (/tasks/bulk, not /tasks/{task_id})
        return ", ".join(sorted(m.upper() for m in paths[path]))
    methods: set[str] = set()
    for template, ops in paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {m.upper() for m in ops}
    return ", ".join(sorted(methods))


def _describe_validation(err: RequestValidationError) -> str:
    parts = []
    for e in err.errors()[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    comps = schema.setdefault("components", {})
    comps.setdefault("securitySchemes", {}).update({
        "bearer": {"type": "http", "scheme": "bearer"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
    })
    # Our validation errors are {"detail": "..."} like every other error.
    comps.get("schemas", {}).pop("HTTPValidationError", None)
    comps.get("schemas", {}).pop("ValidationError", None)
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            if "422" in op.get("responses", {}):
                op["responses"]["422"] = {
                    "description": "The request does not match the schema",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
            if path.startswith("/api/") and not path.startswith("/api/auth/"):
                op["security"] = [{"bearer": []}, {"cookie": []}]
    _profile_patterns(schema, sorted(app.state.settings.profiles))
    app.openapi_schema = schema
    return schema


def _profile_patterns(schema: dict[str, Any], profiles: list[str]) -> None:
    """The orchestration settings name a configured profile (any case) or "" to clear: the schema
    says which, from this server's configuration."""
    from .schemas import any_case

    pattern = rf"^\s*{any_case(profiles)}?\s*$" if profiles else r"^\s*$"
    props = schema.get("components", {}).get("schemas", {}).get("OrchestrationIn", {}).get("properties", {})
    for key in ("orchestrator_profile", "default_assignee"):
        for branch in props.get(key, {}).get("anyOf", []):
            if branch.get("type") == "string":
                branch["pattern"] = pattern
