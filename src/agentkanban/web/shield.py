"""The outer gate: what a browser or a neighbour on the same machine must not be able to do.

One ASGI middleware, in front of the token check (:mod:`.guard`), for every request:

- exactly one well-formed ``Host`` header (a browser never sends two, nor ``name:not-a-port``);
- ``Origin`` checked on every state-changing request and on every WebSocket upgrade: a page
  served from another origin (another port of the same host included: cookies ignore the port)
  is refused, so it can neither change the board with the user's cookie nor read its events;
- failed logins limited per client address (:class:`.limits.LoginLimiter`);
- request bodies bounded and JSON bodies with invalid text refused (:mod:`.limits`), except on
  the few upload routes that bound and spool their own (``streamed_paths``);
- concurrent heavy reads bounded so health checks and writes stay responsive;
- security headers on every answer: a Content-Security-Policy that allows nothing but this
  origin, ``nosniff``, no framing, no referrer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from .limits import BodyLimit, HeavyReads, LoginLimiter, client_of, reply

Scope = dict[str, Any]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WS_POLICY_VIOLATION = 1008
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def origin_key(origin: str) -> str | None:
    """``http://Example.org:80`` -> ``example.org:80``; None when it is not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port or _DEFAULT_PORTS[parts.scheme]}"


def invalid_url_text(scope: Scope) -> str | None:
    """Percent-escapes in the path or query that are not UTF-8 (the server would otherwise turn
    them into U+FFFD silently and act on a different string than the client sent), or a NUL
    (refused in any text, stored or not: a filter holding one would only ever match nothing)."""
    for part, raw in (("query string", scope.get("query_string", b"")),
                      ("path", scope.get("raw_path") or b"")):
        if b"%00" in raw:
            return f"invalid text in the {part}: a NUL character (%00)"
        if b"%" in raw:
            try:
                unquote_to_bytes(raw).decode("utf-8")
            except UnicodeDecodeError as err:
                return f"invalid text in the {part}: {err.reason} at byte {err.start}; send UTF-8"
    return None


def _host_key(host: str, scheme: str) -> str:
    host = host.strip().lower()
    if host.endswith("]") or ":" not in host:
        return f"{host}:{_DEFAULT_PORTS.get(scheme, '80')}"
    return host


class Shield:
    def __init__(self, app: Any, *, allowed_origins: Iterable[str] = (), max_body_bytes: int,
                 heavy_reads: HeavyReads, logins: LoginLimiter,
                 streamed_paths: Iterable[str] = ()) -> None:
        self.app = app
        # Routes that read their body as a stream to a file under their own limit: read here, it
        # would be held in memory whole, and bounded by serve.max_body_bytes instead.
        self.streamed = frozenset(streamed_paths)
        self.allowed = {k for k in (origin_key(o) for o in allowed_origins) if k}
        self.body = BodyLimit(max_body_bytes)
        self.heavy = heavy_reads
        self.logins = logins

    def origin_allowed(self, origin: str | None, host: str | None, scheme: str) -> bool:
        """No ``Origin`` (curl, the CLI, same-origin GETs) passes; otherwise it must be this
        server's own origin or one configured in ``serve.allowed_origins``."""
        if origin is None:
            return True
        key = origin_key(origin)
        if key is None:
            return False  # "null" (sandboxed frames, file: pages) and malformed origins
        return key in self.allowed or (host is not None and key == _host_key(host, scheme))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts: list[str] = []
        origin = None
        for k, v in scope.get("headers") or []:
            if k == b"host":
                hosts.append(v.decode("latin-1"))
            elif k == b"origin":
                origin = v.decode("latin-1")
        if len(hosts) > 1:
            await self._refuse(kind, receive, send, 400, "more than one Host header")
            return
        method = scope.get("method", "GET")
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        if (kind == "websocket" or method not in SAFE_METHODS) and not self.origin_allowed(
                origin, hosts[0] if hosts else None, scheme):
            await self._refuse(kind, receive, send, 403,
                               f"cross-origin request from {origin} refused; add it to "
                               "serve.allowed_origins in config.yaml if it should be allowed")
            return
        bad_text = invalid_url_text(scope)
        if bad_text:
            await self._refuse(kind, receive, send, 422, bad_text)
            return
        client = client_of(scope)
        if self.logins.refuses(scope, client):
            await self._refuse(kind, receive, send, 429, "too many failed logins from this "
                               "address; wait a minute and try again",
                               [(b"retry-after", str(self.logins.retry_after(client)).encode())])
            return
        if kind == "websocket":
            await self.app(scope, receive, self.logins.watch(scope, client, send))
            return
        await self._http(scope, receive, send, client)

    async def _http(self, scope: Scope, receive: Any, send: Any, client: str) -> None:
        async def send_secure(message: Any) -> None:
            if message["type"] == "http.response.start":
                # A route that sets one of these (a stricter policy for a download) keeps its own.
                own = message.get("headers", [])
                have = {k.lower() for k, _ in own}
                message = {**message, "headers": [*own, *((k, v) for k, v in SECURITY_HEADERS
                                                          if k not in have)]}
            await send(message)

        watched = self.logins.watch(scope, client, send_secure)
        if scope.get("path") in self.streamed:
            checked = receive
        else:
            checked = await self.body.check(scope, receive, watched)
        if checked is None:
            return  # refused with 413 or 422
        async with self.heavy.slot(scope, watched) as admitted:
            if admitted:
                await self.app(scope, checked, watched)

    @staticmethod
    async def _refuse(kind: str, receive: Any, send: Any, status: int, detail: str,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
        if kind == "http":
            await reply(send, status, detail, [*SECURITY_HEADERS, *(extra or [])])
            return
        msg = await receive()
        if msg["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
