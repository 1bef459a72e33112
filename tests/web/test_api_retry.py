"""Every API route runs again after a transient database error (the retry itself, on a real
PostgreSQL, is in tests/store/test_commit_outcome.py)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from agentkanban.web.deps import RetryingRoute


def test_every_api_route_retries_transient_database_errors(app: FastAPI):
    """A router made without ``APIRouter(route_class=RetryingRoute)`` (a new one) fails here.
    The app's own routes are left out: pages, login (no database), and /healthz and /metrics,
    which must answer at once, database down or not."""
    routers = [r.original_router for r in app.routes if hasattr(r, "original_router")]
    assert len(routers) >= 7
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 40
    assert sorted({r.path for r in routes if not isinstance(r, RetryingRoute)}) == []
