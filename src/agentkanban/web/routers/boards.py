"""Boards: list, create, update, archive or delete, switch the current one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...services import boards
from .. import schemas as s
from ..deps import JSON, BoardQ, RetryingRoute, board_of, ctx_of

router = APIRouter(route_class=RetryingRoute, tags=["boards"])


@router.get("/boards", response_model=s.BoardsOut, summary="Every board, with task counts")
def list_boards(request: Request, board: BoardQ = None, include_archived: bool = False) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"boards": boards.list_boards(ctx, include_archived), "current": boards.current(ctx)})


@router.post("/boards", response_model=s.CreateBoardOut, summary="Create a board (idempotent)")
def create_board(request: Request, payload: s.CreateBoardIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    from ...services import board_defaults

    board_defaults.clean(payload.default_workdir, payload.default_workspace_kind)  # refuse before creating
    made = boards.create(ctx, payload.slug, name=payload.name, description=payload.description,
                         icon=payload.icon, color=payload.color)
    if payload.default_workdir is not None or payload.default_workspace_kind is not None:
        made = board_defaults.set_defaults(ctx, made.slug, workdir=payload.default_workdir,
                                           kind=payload.default_workspace_kind) or made
    if payload.switch:
        boards.switch(ctx, made.slug)
    return JSON({"board": made.to_dict(), "current": boards.current(ctx)})


@router.patch("/boards/{slug}", response_model=s.BoardOnlyOut,
              summary="Change a board's name, description, icon or colour (the slug is fixed)")
def update_board(request: Request, slug: str, payload: s.UpdateBoardIn, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    from ...services import board_defaults

    board_defaults.clean(payload.default_workdir, payload.default_workspace_kind)  # refuse before changing
    updated = boards.update(ctx, slug, name=payload.name, description=payload.description,
                            icon=payload.icon, color=payload.color)
    if payload.default_workdir is not None or payload.default_workspace_kind is not None:
        updated = board_defaults.set_defaults(ctx, updated.slug, workdir=payload.default_workdir,
                                              kind=payload.default_workspace_kind) or updated
    return JSON({"board": updated.to_dict()})


@router.delete("/boards/{slug}", response_model=s.RemoveBoardOut,
               summary="Archive a board, or delete it with all its tasks",
               description="The default board can be neither archived nor deleted (400).")
def delete_board(request: Request, slug: str, board: BoardQ = None,
                 delete: Annotated[bool, Query(description="Delete instead of archive")] = False) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    result = boards.remove(ctx, slug, hard=delete)
    return JSON({"result": result, "current": boards.current(ctx)})


@router.post("/boards/{slug}/switch", response_model=s.CurrentOut,
             summary="Make this the current board for the CLI and for requests without ?board=")
def switch_board(request: Request, slug: str, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"current": boards.switch(ctx, slug)})
