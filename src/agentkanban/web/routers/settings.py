"""The dashboard's Settings view: what is configured and running, and the caps it may change
(written back to config.yaml, comments kept)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ...services import settings_view
from .. import schemas_settings as ss
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of

router = APIRouter(route_class=RetryingRoute, tags=["settings"])


@router.get("/settings", response_model=ss.SettingsOut,
            summary="Profiles, dispatcher, notifier, boards and config.yaml, for the Settings view",
            description="No secret is shown: a profile's env by its variable names only, a "
                        "platform without its token.")
def get_settings(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON(settings_view.overview(ctx, getattr(request.app.state, "config_watch", None)))


@router.patch("/settings", response_model=ss.SettingsOut,
              summary="Change profiles' max_concurrency and dispatch.max_in_progress",
              description="Written to config.yaml with its comments and layout kept, validated as "
                          "at start-up first (400 and the file untouched when refused), and in "
                          "force when this answers. 404 for a profile that is not configured.")
def patch_settings(request: Request, payload: ss.SettingsIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    caps = {name: p.max_concurrency for name, p in (payload.profiles or {}).items()}
    return JSON(settings_view.update_caps(ctx, profiles=caps, max_in_progress=payload.max_in_progress,
                                          watch=getattr(request.app.state, "config_watch", None)))
