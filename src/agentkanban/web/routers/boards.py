"""Boards: list, create, update, archive or delete, switch the current one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from ...services import boards
from .. import schemas as s
from .. import schemas_boards as sb
from ..deps import JSON, BoardQ, RetryingRoute, SlugP, board_of, ctx_of

# Any slug but the default board's, which can be neither archived nor deleted (400).
DeletableSlugP = Annotated[str, Path(description="Board slug, not the default board's", json_schema_extra={
    "pattern": r"^(?!\s*[Dd][Ee][Ff][Aa][Uu][Ll][Tt]\s*$)" + s.SLUG_PATTERN.lstrip("^")})]

router = APIRouter(route_class=RetryingRoute, tags=["boards"])


@router.get("/boards", response_model=sb.BoardsOut, summary="Every board, with task counts")
def list_boards(request: Request, board: BoardQ = None, include_archived: bool = False) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"boards": boards.list_boards(ctx, include_archived), "current": boards.current(ctx)})


@router.post("/boards", response_model=sb.CreateBoardOut, summary="Create a board (idempotent)")
def create_board(request: Request, payload: sb.CreateBoardIn, board: BoardQ = None) -> Any:
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


@router.patch("/boards/{slug}", response_model=sb.BoardOnlyOut,
              summary="Change a board's name, description, icon or colour (the slug is fixed)")
def update_board(request: Request, slug: SlugP, payload: sb.UpdateBoardIn, board: BoardQ = None) -> Any:
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


@router.delete("/boards/{slug}", response_model=sb.RemoveBoardOut,
               summary="Archive a board, or delete it with all its tasks",
               description="The default board can be neither archived nor deleted (400).")
def delete_board(request: Request, slug: DeletableSlugP, board: BoardQ = None,
                 delete: Annotated[bool, Query(description="Delete instead of archive")] = False) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    result = boards.remove(ctx, slug, hard=delete)
    return JSON({"result": result, "current": boards.current(ctx)})


@router.post("/boards/{slug}/switch", response_model=sb.CurrentOut,
             summary="Make this the current board for the CLI and for requests without ?board=")
def switch_board(request: Request, slug: SlugP, board: BoardQ = None) -> Any:
    ctx = ctx_of(request)
    board_of(ctx, board)
    return JSON({"current": boards.switch(ctx, slug)})
