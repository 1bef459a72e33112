"""The gate in front of everything: the Host check for every request, the token for ``/api``.

A plain ASGI middleware (not a FastAPI dependency) so the check is one function call per request
and covers the WebSocket and the OpenAPI document alike.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from .auth import COOKIE_NAME, HostGuard, bearer, token_matches
from .deps import dumps

Scope = dict[str, Any]
PROTECTED_PREFIX = "/api/"
OPEN_PATHS = frozenset({"/api/auth/login", "/api/auth/logout"})
WS_POLICY_VIOLATION = 1008
# A worker's run id; with its run token as the bearer it opens the verbs routes only.
RUN_ID_HEADER = "x-kanban-run-id"
VERBS_PATHS = ("/api/verbs/", "/api/plugins/kanban/verbs/")
RUN_SCOPE_KEY = "kanban.run"  # (run id, run token), checked by services.runs.worker_actor
# A runner token (``kbr_...``) opens the runner's own routes only: register, claim, and its
# attempts' lease, log and exit. Never the operator's runner routes, nor any other. Register and
# claim are matched whole: as prefixes they would also open ``DELETE /api/runners/claim-box-1``,
# the operator's revocation of a runner whose name starts with one of them.
RUNNER_TOKEN_PREFIX = "kbr_"
_RUNNER_BASES = tuple(f"{p}/runners/" for p in ("/api", "/api/plugins/kanban"))
RUNNER_EXACT_PATHS = frozenset(f"{b}{r}" for b in _RUNNER_BASES for r in ("register", "claim"))
RUNNER_PATH_PREFIXES = tuple(f"{b}runs/" for b in _RUNNER_BASES)
RUNNER_SCOPE_KEY = "kanban.runner"  # the runner token, checked by services.runners.authenticate
# The header the reference (Hermes) dashboard's plugin SDK sends its token in, lower-cased as ASGI has it.
SESSION_HEADER = "x-hermes-session-token"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}


def request_token(scope: Scope, headers: dict[str, str]) -> str | None:
    """The token a request offers: bearer header, the reference dashboard's session-token header,
    then cookie, then ``?token=`` (WebSocket only). Every one is compared in constant time."""
    token = bearer(headers.get("authorization")) or headers.get(SESSION_HEADER, "").strip()
    if token:
        return token
    raw_cookie = headers.get("cookie")
    if raw_cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw_cookie)
        except Exception:
            jar = SimpleCookie()
        if COOKIE_NAME in jar:
            return jar[COOKIE_NAME].value
    if scope["type"] == "websocket":
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if values:
            return values[0]
    return None


class Guard:
    def __init__(self, app: Any, *, token: str, hosts: HostGuard) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not self.hosts.allows(headers.get("host")):
            if kind == "http":
                await _reply(send, 400, "unknown Host header; add the name to serve.allowed_hosts "
                                        "in config.yaml if this server should answer to it")
            else:
                await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
            return
        path: str = scope.get("path", "")
        protected = path.startswith(PROTECTED_PREFIX) and path not in OPEN_PATHS
        offered = request_token(scope, headers)
        if protected and not token_matches(self.token, offered):
            run_id = headers.get(RUN_ID_HEADER, "").strip()
            if kind == "http" and run_id and offered and path.startswith(VERBS_PATHS):
                # A run principal: the route proves the token against the run, or refuses.
                await self._timed({**scope, RUN_SCOPE_KEY: (run_id, offered)}, receive, send)
                return
            if kind == "http" and offered and offered.startswith(RUNNER_TOKEN_PREFIX) \
                    and (path in RUNNER_EXACT_PATHS or path.startswith(RUNNER_PATH_PREFIXES)):
                # A runner: the route proves the token against the stored hash, or refuses.
                await self._timed({**scope, RUNNER_SCOPE_KEY: offered}, receive, send)
                return
            if kind == "http":
                await _reply(send, 401, "missing or wrong token: send `Authorization: Bearer "
                                        "<token>` or log in at /login",
                             extra=[(b"www-authenticate", b"Bearer")])
            else:
                # Accept first so the client sees the close code (a refused handshake is only
                # an HTTP 403 to a browser).
                msg = await receive()
                if msg["type"] == "websocket.connect":
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION,
                                "reason": "missing or wrong token"})
            return
        scope.pop(RUN_SCOPE_KEY, None)
        scope.pop(RUNNER_SCOPE_KEY, None)
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        await self._timed(scope, receive, send)

    async def _timed(self, scope: Scope, receive: Any, send: Any) -> None:
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            # Server-Timing: how long the server took to produce the answer, so a client (or the
            # benchmark) can tell server work from the network and its own parsing.
            if message["type"] == "http.response.start":
                dur = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={dur:.2f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed_send)


async def _reply(send: Any, status: int, detail: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
