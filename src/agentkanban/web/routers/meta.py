"""Preferences, notification home channels, statistics, assignees and the dispatch nudge."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request

from ...domain.events import ALL_KINDS
from ...errors import NotFound
from ...services import events, subs, views
from ...services.common import resolve_id
from .. import schemas as s
from .. import schemas_meta as sm
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of

if TYPE_CHECKING:
    from ...dispatch.dispatcher import Dispatcher

router = APIRouter(route_class=RetryingRoute, tags=["board"])


@router.get("/config", response_model=sm.ConfigOut, summary="Dashboard preferences")
def get_config(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON(dataclasses.asdict(ctx.settings.dashboard))


@router.get("/home-channels", response_model=sm.HomeChannelsOut,
            summary="Platforms with a home channel, and whether a task notifies them")
def get_home_channels(request: Request, board: BoardQ = None,
                      task_id: Annotated[str | None, Query(description="Mark this task's subscriptions")] = None
                      ) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    keys: set[tuple[str, str, str]] = set()
    if task_id:
        try:
            found = subs.list_subs(ctx, slug, resolve_id(ctx, slug, task_id))
        except NotFound:  # the reference answers for an unknown task with nothing subscribed
            found = []
        keys = {(x.platform, x.chat_id, x.thread_id) for x in found}
    out = [{**h, "subscribed": (h["platform"], h["chat_id"], h["thread_id"]) in keys}
           for h in subs.home_channels(ctx)]
    return JSON({"home_channels": out})


@router.post("/tasks/{task_id}/home-subscribe/{platform}", response_model=sm.HomeSubscribeOut,
             summary="Notify this platform's home channel about the task (idempotent)")
def subscribe_home(request: Request, task_id: str, platform: str, board: BoardQ = None) -> Any:
    return _home_toggle(request, task_id, platform, board, subs.subscribe)


@router.delete("/tasks/{task_id}/home-subscribe/{platform}", response_model=sm.HomeSubscribeOut,
               summary="Stop notifying this platform's home channel about the task")
def unsubscribe_home(request: Request, task_id: str, platform: str, board: BoardQ = None) -> Any:
    return _home_toggle(request, task_id, platform, board, subs.unsubscribe)


def _home_toggle(request: Request, task_id: str, platform: str, board: str | None,
                 change: Callable[..., bool]) -> Any:
    """Subscribe or unsubscribe ``platform``'s home channel (404 when it has none)."""
    ctx = ctx_of(request)
    slug = board_of(ctx, board)
    home = subs.home_channel(ctx, platform)
    tid = resolve_id(ctx, slug, task_id)
    change(ctx, slug, tid, platform=home["platform"], chat_id=home["chat_id"],
           thread_id=home["thread_id"])
    return JSON({"ok": True, "task_id": tid, "home_channel": home})


@router.get("/stats", response_model=sm.StatsOut, summary="Counts by status and assignee")
def get_stats(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON(views.stats(ctx, board_of(ctx, board)))


# The event kinds, as the schema's enum of the feed's ``kind`` filter.
EventKind = enum.Enum("EventKind", {k: k for k in sorted(ALL_KINDS)}, type=str)  # type: ignore[misc]


@router.get("/activity", response_model=s.FeedOut, summary="The board's activity feed",
            description="Events newest first, each with its task's title; filter by task, profile "
                        "(its attempts and the tasks assigned to it) and kind.")
def get_activity(request: Request, board: BoardQ = None,
                 task_id: Annotated[str | None, Query(max_length=64, pattern=r"^(t_)?[0-9a-f]{1,32}$",
                                                      description="A task id or unique prefix")] = None,
                 profile: Annotated[str | None, Query(max_length=128)] = None,
                 kind: Annotated[list[EventKind] | None, Query(description="Repeatable")] = None,
                 before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                 limit: Annotated[int, Query(ge=1, le=events.ACTIVITY_MAX)] = 50) -> Any:
    ctx = ctx_of(request)
    return JSON(events.activity(ctx, board_of(ctx, board), task_id=task_id, profile=profile,
                                kinds=[k.value for k in kind] if kind else None, before=before,
                                limit=limit))


@router.get("/assignees", response_model=sm.AssigneesOut,
            summary="Configured worker profiles and every assignee on the board")
def get_assignees(request: Request, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    return JSON({"assignees": views.assignees(ctx, board_of(ctx, board))})


@router.post("/dispatch", response_model=sm.DispatchOut, summary="Run one dispatcher pass now",
             description="Asks this server's dispatcher for a pass now (the one its background "
                         "loop runs; with --no-dispatch, one the server keeps for these requests): "
                         "settles running attempts and spawns workers for ready tasks, as the loop "
                         "does; with ?board= only that board.")
def dispatch(request: Request, board: BoardQ = None, dry_run: bool = False,
             max_spawn: Annotated[int, Query(alias="max", ge=0, le=1000)] = 8) -> Any:
    ctx = ctx_of(request)
    slug = board_of(ctx, board) if board else None
    result = _dispatcher(request).tick(dry_run=dry_run, max_spawn=max_spawn, board=slug)
    return JSON(dataclasses.asdict(result))


def _dispatcher(request: Request) -> Dispatcher:
    """The server's dispatcher: never a throwaway, so its children stay in one registry."""
    state = request.app.state
    with state.dispatcher_lock:
        if getattr(state, "dispatcher", None) is None:
            from ...dispatch.dispatcher import Dispatcher

            state.dispatcher = Dispatcher(ctx_of(request))
        return state.dispatcher  # type: ignore[no-any-return]
