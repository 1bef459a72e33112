"""Bounds on what one client can make the server hold: body size, heavy reads, login guesses.

Each is an object the app owns (no module state), used by :class:`.shield.Shield`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..domain.text import first_invalid
from .deps import dumps

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
# The reads whose answer grows with the board: a few at a time keep memory and the thread pool
# free for health checks and writes, whatever the number of readers.
HEAVY_PATHS = frozenset(p + s for p in ("/api", "/api/plugins/kanban")
                        for s in ("/board", "/tasks", "/stats", "/assignees"))


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def reply(send: Any, status: int, detail: str, extra: Headers | None = None) -> None:
    body = dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or []:
        if k == name:
            return str(v.decode("latin-1"))
    return None


class BodyLimit:
    """Refuse bodies over ``max_bytes`` (413) before reading them into memory, and JSON bodies
    that hold an unpaired surrogate escape (which Python's JSON parser would let through) or a
    NUL in any string (422), whatever the route does with the field."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def check(self, scope: Scope, receive: Any, send: Any) -> Any:
        length = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if length is None and not chunked:
            return receive
        if length is not None:
            if not length.isdigit():
                await reply(send, 400, "Content-Length must be a number of bytes")
                return None
            if int(length) > self.max_bytes:
                await self._too_large(send)
                return None
            if int(length) == 0:
                return receive
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return _replay([], msg, receive)  # the client went away; let the app see that
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return None
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _invalid_json_text(body, _header(scope, b"content-type"))
        if problem:
            await reply(send, 422, problem)
            return None
        return _replay([body], None, receive)

    async def _too_large(self, send: Any) -> None:
        await reply(send, 413, f"request body is larger than {self.max_bytes} bytes "
                               "(serve.max_body_bytes)", [(b"connection", b"close")])


def _invalid_json_text(body: bytes, content_type: str | None) -> str | None:
    if b"\\u" not in body and b"\\U" not in body:
        return None
    if content_type is None or "json" not in content_type.lower():
        return None
    import json

    import orjson

    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        try:
            json.loads(body)
        except ValueError:
            return None  # plain malformed JSON: the schema check says so in its own words
        return f"invalid text in the JSON body: {err}; send valid Unicode"
    if b"\\u0000" in body:  # a NUL, refused in any field (the storage boundary refuses it too)
        why = first_invalid(parsed, "body")
        if why:
            return f"invalid text: {why}"
    return None


def _replay(bodies: list[bytes], then: Any, upstream: Any) -> Any:
    """A ``receive`` that hands out the body read already, then defers to the server's own
    (which reports the client's disconnect)."""
    pending = [{"type": "http.request", "body": b, "more_body": False} for b in bodies]
    if then is not None:
        pending.append(then)

    async def receive() -> Any:
        if pending:
            return pending.pop(0)
        return await upstream()

    return receive


class HeavyReads:
    """At most ``limit`` heavy reads at once; others wait up to ``wait_seconds``, then get 503."""

    def __init__(self, limit: int, wait_seconds: float = 30.0) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._sem: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def slot(self, scope: Scope, send: Any) -> AsyncIterator[bool]:
        if scope.get("method") != "GET" or scope.get("path") not in HEAVY_PATHS:
            yield True
            return
        if self._sem is None:  # made on first use, inside the server's event loop
            self._sem = asyncio.Semaphore(self.limit)
        sem = self._sem
        try:
            await asyncio.wait_for(sem.acquire(), self.wait_seconds)
        except TimeoutError:
            await reply(send, 503, "the server is busy with other reads; retry shortly",
                        [(b"retry-after", b"1")])
            yield False
            return
        try:
            yield True
        finally:
            sem.release()


class LoginLimiter:
    """After ``limit`` failed token checks from one address within ``window`` seconds, that
    address is refused (429) until the window has passed: guessing a token stays slow even when
    an operator chose a short one."""

    MAX_CLIENTS = 10_000

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        fails = self._fails.get(client)
        if fails is None:
            return deque()
        cutoff = time.monotonic() - self.window
        while fails and fails[0] < cutoff:
            fails.popleft()
        if not fails:
            del self._fails[client]
        return fails

    def locked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.limit

    def refuses(self, scope: Scope, client: str) -> bool:
        """A locked-out address may still reach what needs no token (``/healthz``, the pages)."""
        return bool(self._fails) and _offers_token(scope) and self.locked(client)

    def retry_after(self, client: str) -> int:
        fails = self._recent(client)
        return max(1, int(fails[0] + self.window - time.monotonic()) + 1) if fails else 1

    def failed(self, client: str) -> None:
        fails = self._fails.setdefault(client, deque())
        self._fails.move_to_end(client)
        fails.append(time.monotonic())
        while len(self._fails) > self.MAX_CLIENTS:
            self._fails.popitem(last=False)

    def watch(self, scope: Scope, client: str, send: Any) -> Any:
        """``send``, counting a failure when the answer refuses a token the request offered."""
        offered = _offers_token(scope)
        if not offered:
            return send

        async def counting(message: Any) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                location = dict(message.get("headers") or []).get(b"location", b"")
                if message["status"] == 401 or b"error=token" in location:
                    self.failed(client)
            elif kind == "websocket.close" and message.get("reason") == "missing or wrong token":
                self.failed(client)
            await send(message)

        return counting


def _offers_token(scope: Scope) -> bool:
    path = scope.get("path", "")
    if path.endswith("/auth/login"):
        return True
    if b"token=" in scope.get("query_string", b""):
        return True
    return any(k in (b"authorization", b"cookie") for k, _ in scope.get("headers") or [])
