"""What every route shares: the service context, the board, the actor, lean JSON answers, and
the retry of a route whose database transaction failed for a transient reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query, Request, Response
from fastapi.routing import APIRoute

from ..domain.text import scrub
from ..services import Actor, Ctx
from ..services import boards as board_svc
from .schemas import OPTIONAL_SLUG_PATTERN, SLUG_PATTERN

# Writes made through the API are attributed to this name (the reference dashboard's).
API_ACTOR = Actor(name="dashboard")

BoardQ = Annotated[
    str | None,
    Query(description="Board slug; omitted means the server's current board. 400 if malformed, "
                      "404 if no such board.",
          json_schema_extra={"pattern": OPTIONAL_SLUG_PATTERN}),
]
SlugP = Annotated[str, Path(description="Board slug", json_schema_extra={"pattern": SLUG_PATTERN})]


def ctx_of(request: Request) -> Ctx:
    ctx: Ctx = request.app.state.ctx
    return ctx


def board_of(ctx: Ctx, board: str | None) -> str:
    """``?board=`` -> a slug that exists (ValidationError 400, NotFound 404)."""
    return board_svc.resolve(ctx, board or None)


try:  # orjson encodes a 10,000-task board about ten times faster than the standard library
    import orjson

    def dumps(data: Any) -> bytes:
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            # Text stored before invalid text was refused (an unpaired surrogate): answer with
            # U+FFFD in its place rather than fail the whole page or WebSocket batch.
            return orjson.dumps(scrub(data))

except ImportError:  # pragma: no cover - orjson is a dependency; this keeps odd platforms working

    def dumps(data: Any) -> bytes:
        return json.dumps(scrub(data), separators=(",", ":"), ensure_ascii=False).encode()


class JSON(Response):
    """A response whose body was built by the services: encoded once, not validated again."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


STREAM_MARK = "_kanban_reads_its_stream"
F = TypeVar("F", bound=Callable[..., Any])


def reads_its_stream(endpoint: F) -> F:
    """Mark a route that reads its request body as a stream: :class:`RetryingRoute` does not run
    it again (the stream is gone), so it retries its own service call."""
    setattr(endpoint, STREAM_MARK, True)
    return endpoint


class RetryingRoute(APIRoute):
    """A route that runs again, under the services' retry policy (:attr:`Ctx.retry`), when its
    service call failed on a transient database error (a restart, a dropped connection, a
    serialization failure). Safe because a route is one service call, which is one transaction
    (or idempotent steps), and a COMMIT lost with its connection is looked up, not re-run.
    The parsed body is kept by the request, so the second run sees the same input.

    Every router of the API is made with ``APIRouter(route_class=RetryingRoute)``
    (``tests/web/test_api_retry.py`` checks that none is missing). An upload (multipart, or a
    route marked :func:`reads_its_stream`) reads its stream once, so it is not run again here:
    its route retries its own service call."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if getattr(self.endpoint, STREAM_MARK, False):
            return handler

        async def run(request: Request) -> Response:
            if request.headers.get("content-type", "").lower().startswith("multipart/"):
                return await handler(request)
            return await ctx_of(request).retry.run_async(lambda: handler(request))

        return run
