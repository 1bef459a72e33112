"""Request bodies and response shapes of the orchestration and profile routes (the reference
dashboard's orchestrator panel), apart from :mod:`.schemas` so each stays readable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .schemas import Flag, _Body


class OrchestrationOut(BaseModel):
    orchestrator_profile: str
    default_assignee: str
    auto_decompose: bool
    auto_promote_children: bool
    resolved_orchestrator_profile: str = Field(description='"" when the setting names no configured profile.')
    resolved_default_assignee: str
    active_profile: str


class OrchestrationIn(_Body):
    orchestrator_profile: str | None = None
    default_assignee: str | None = None
    auto_decompose: Flag | None = None
    auto_promote_children: Flag | None = None


class ProfileItem(BaseModel):
    name: str
    is_default: bool
    description: str
    description_auto: bool
    model: str
    provider: str = Field(description="The program the profile's command runs.")
    skill_count: int
    max_concurrency: int


class ProfilesOut(BaseModel):
    profiles: list[ProfileItem]


class ProfileOut(BaseModel):
    ok: bool
    profile: ProfileItem


class DescribeIn(_Body):
    description: str | None = None


class DescribeAutoIn(_Body):
    overwrite: Flag = False


class AuthorIn(_Body):
    author: str | None = None


class OrchestrateOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    ok: bool
    reason: str
    task_id: str | None = None
    new_title: str | None = None
    fanout: bool | None = None
    child_ids: list[str] | None = None
    job_id: str | None = Field(None, description="The job task the orchestrator worked on.")
