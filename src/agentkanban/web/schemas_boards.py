"""Request bodies and response shapes of the board routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .schemas import (
    ABSOLUTE_PATH_PATTERN,
    WORKDIR_FOR_KIND,
    WORKSPACE_KIND_PATTERN,
    Epoch,
    Flag,
    NonBlank,
    Slug,
    _Body,
)


# -- boards ---------------------------------------------------------------------------------------
class BoardMetaOut(BaseModel):
    slug: str
    name: str
    description: str
    icon: str
    color: str
    created_at: Epoch
    archived_at: Epoch | None
    archived: bool
    default_workdir: str | None = None
    default_workspace_kind: str | None = None


class BoardListItem(BoardMetaOut):
    is_current: bool
    counts: dict[str, int]
    total: int


class BoardsOut(BaseModel):
    boards: list[BoardListItem]
    current: str


class CreateBoardIn(_Body):
    # A kind of dir or worktree with default_workdir "" in the same request is 400.
    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda s: s.update(WORKDIR_FOR_KIND))

    slug: Slug
    name: str | None = None
    description: str | None = None
    icon: str | None = None
    color: str | None = None
    default_workdir: str | None = Field(None, description="Absolute path new tasks work in by default.",
                                        json_schema_extra={"pattern": ABSOLUTE_PATH_PATTERN})
    default_workspace_kind: str | None = Field(None, description="scratch, dir or worktree",
                                               json_schema_extra={"pattern": WORKSPACE_KIND_PATTERN})
    switch: Flag = False


class CreateBoardOut(BaseModel):
    board: BoardMetaOut
    current: str


class UpdateBoardIn(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda s: s.update(WORKDIR_FOR_KIND))

    name: NonBlank | None = None
    description: str | None = None
    icon: str | None = None
    color: str | None = None
    default_workdir: str | None = Field(None, description='"" clears it.',
                                        json_schema_extra={"pattern": ABSOLUTE_PATH_PATTERN})
    default_workspace_kind: str | None = Field(None, description='scratch, dir or worktree; "" clears it.',
                                               json_schema_extra={"pattern": WORKSPACE_KIND_PATTERN})


class BoardOnlyOut(BaseModel):
    board: BoardMetaOut


class RemoveResult(BaseModel):
    slug: str
    action: str = Field(description="archived or deleted")
    new_path: str | None


class RemoveBoardOut(BaseModel):
    result: RemoveResult
    current: str


class CurrentOut(BaseModel):
    current: str
