"""Every API route runs again after a transient database error (the retry itself, on a real
PostgreSQL, is in tests/store/test_commit_outcome.py)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from agentkanban.web.deps import RetryingRoute


def _api_routes(routes: list) -> list[APIRoute]:
    out: list[APIRoute] = []
    for r in routes:
        included = getattr(r, "original_router", None)  # a router included in the app
        if included is not None:
            out += _api_routes(included.routes)
        elif isinstance(r, APIRoute):
            out.append(r)
    return out


def test_every_api_route_retries_transient_database_errors(app: FastAPI):
    """A router made without ``APIRouter(route_class=RetryingRoute)`` (a new one) fails here."""
    # The app's own routes are left out: pages, login (no database), /healthz and /metrics
    # (which must answer at once, database down or not).
    routes = [r for r in _api_routes(app.routes)
              if r.path.startswith("/api/") and not r.path.startswith("/api/auth/")]
    assert len(routes) > 40
    assert sorted({r.path for r in routes if not isinstance(r, RetryingRoute)}) == []
