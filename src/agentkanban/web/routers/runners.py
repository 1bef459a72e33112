"""Remote runners: the runner's own routes (register, claim, lease, log, exit), which take a runner
token only, and the operator's (list, make a token, revoke), which take the API token only.

The Guard lets a runner token (``kbr_...``) through to the runner's routes and nowhere else (see
``web/guard.py``); each of them proves it again against the stored hash through the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ...errors import Unauthorized
from ...services import runner_work
from ...services import runners as svc
from ..deps import API_ACTOR, JSON, RetryingRoute, ctx_of
from ..guard import RUNNER_SCOPE_KEY

router = APIRouter(route_class=RetryingRoute, tags=["runners"])

RunId = Annotated[int, Path(description="The attempt's run id", ge=1)]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # folded to lower case by the service
Label = Annotated[str, Field(pattern=NAME_PATTERN)]
RECHECK_SECONDS = 2.0  # a waiting claim looks again this often even without a write (a retry's backoff ending)
# A waiting claim looks again at most this often, however fast the board is written: every write
# wakes every waiting claim, and each look reads the ready queue (the dispatcher's passes woken by
# writes are spaced the same way).
RESCAN_SECONDS = 0.1


def runner_token(request: Request) -> str:
    token = request.scope.get(RUNNER_SCOPE_KEY)
    if not token:
        raise Unauthorized("these routes take a runner token (kbr_...): `kanban runners token "
                           "create NAME` makes one")
    return str(token)


# Resolved before the body is read: a request without a runner token is 401 whatever its body.
RunnerToken = Annotated[str, Depends(runner_token)]


def operator_only(request: Request) -> None:
    """The operator's routes never take a runner token (the Guard keeps it out; this is the
    second lock)."""
    if request.scope.get(RUNNER_SCOPE_KEY):
        raise Unauthorized("a runner token cannot list, make or revoke runners: use the API token")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    labels: list[Label] = Field(default=[], max_length=32)
    profiles: list[str] = Field(default=[], max_length=svc.MAX_PROFILES)
    capacity: int = Field(default=1, ge=1, le=svc.MAX_CAPACITY)
    version: str | None = Field(default=None, max_length=64)
    host: str | None = Field(default=None, max_length=255)


class ClaimIn(_In):
    slots: int = Field(default=1, ge=1, le=svc.MAX_CAPACITY)
    wait: float = Field(default=svc.POLL_SECONDS, ge=0, le=svc.MAX_POLL_SECONDS,
                        description="Seconds to wait for work when there is none now")


class ExitIn(_In):
    exit_code: int | None = Field(default=None, ge=-255, le=255)
    timed_out: bool = False
    spawn_error: str | None = Field(default=None, max_length=4000)


class TokenIn(_In):
    name: str = Field(pattern=NAME_PATTERN)
    profiles: list[str] = Field(default=[], max_length=svc.MAX_PROFILES)
    labels: list[Label] = Field(default=[], max_length=32)


class Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- the runner's ---------------------------------------------------------------------------------
@router.post("/runners/register", response_model=Doc, summary="A runner says what it runs")
def register(request: Request, token: RunnerToken, payload: RegisterIn) -> Any:
    return JSON(svc.register(ctx_of(request), token, labels=payload.labels,
                             profiles=payload.profiles, capacity=payload.capacity,
                             version=payload.version, host=payload.host))


@router.post("/runners/claim", response_model=Doc,
             summary="Claim ready work for a runner, waiting up to `wait` seconds for some")
async def claim(request: Request, token: RunnerToken, payload: ClaimIn) -> Any:
    ctx = ctx_of(request)
    work = await _long_poll(request, lambda: runner_work.claim(ctx, token, payload.slots), payload.wait,
                            lambda got: runner_work.release(ctx, got))
    return JSON({"work": work})


async def _long_poll(request: Request, fetch: Callable[[], list[Any]], wait: float,
                     release: Callable[[list[Any]], None]) -> list[Any]:
    """``fetch()`` now, then again after each write to the board (the event hub's signal) or every
    RECHECK_SECONDS, until it finds something, ``wait`` runs out or the client leaves. Looks start
    at least RESCAN_SECONDS apart: a stream of writes costs each waiting runner ten looks a second
    at most, not one per write. Nothing is fetched for a client that has left, and what was
    fetched just as it left is ``release``d: a runner stopped in the middle of its long poll must
    not leave a task claimed for nobody until the lease runs out (and counted as a lost runner)."""
    hub = request.app.state.hub
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    hub.subscribers += 1  # keeps the hub watching for writes while nobody else listens
    hub.wake()
    try:
        while True:
            changed = hub.changed()  # taken before the look: a write during it wakes the next one
            looked = loop.time()
            if await request.is_disconnected():
                return []
            got = await run_in_threadpool(fetch)
            if got and await request.is_disconnected():
                await run_in_threadpool(release, got)
                return []
            left = deadline - loop.time()
            if got or left <= 0:
                return got
            try:
                await asyncio.wait_for(changed.wait(), min(left, RECHECK_SECONDS))
            except TimeoutError:
                pass
            pause = min(looked + RESCAN_SECONDS, deadline) - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
    finally:
        hub.subscribers -= 1


@router.post("/runners/runs/{run_id}/lease", response_model=Doc,
             summary="Extend a runner's attempt's lease (409: the attempt was ended)")
def lease(request: Request, token: RunnerToken, run_id: RunId) -> Any:
    return JSON(runner_work.extend(ctx_of(request), token, run_id))


@router.post("/runners/runs/{run_id}/log", response_model=Doc,
             summary="Append a chunk of the worker's output (application/octet-stream)")
async def log_chunk(request: Request, token: RunnerToken, run_id: RunId) -> Any:
    chunk = await request.body()
    return JSON(await run_in_threadpool(runner_work.append_log, ctx_of(request), token, run_id, chunk))


@router.post("/runners/runs/{run_id}/exit", response_model=Doc,
             summary="Report how the worker ended; the attempt is settled as a local one would be")
def exit_report(request: Request, token: RunnerToken, run_id: RunId, payload: ExitIn) -> Any:
    return JSON(runner_work.report_exit(ctx_of(request), token, run_id,
                                        exit_code=payload.exit_code, timed_out=payload.timed_out,
                                        spawn_error=payload.spawn_error))


# -- the operator's -------------------------------------------------------------------------------
@router.get("/runners", response_model=Doc, summary="Every runner: labels, profiles, online, running")
def list_runners(request: Request) -> Any:
    operator_only(request)
    return JSON({"runners": svc.list_runners(ctx_of(request))})


@router.post("/runners/tokens", response_model=Doc,
             summary="Make a runner token (shown once; only its hash is kept)")
def create_token(request: Request, payload: TokenIn) -> Any:
    operator_only(request)
    runner, token = svc.create_token(ctx_of(request), payload.name, profiles=payload.profiles or None,
                                     labels=payload.labels or None)
    return JSON({"runner": runner, "token": token})


@router.delete("/runners/{name}", response_model=Doc,
               summary="Revoke a runner's token; the attempts it holds are ended")
def revoke(request: Request, name: Annotated[str, Path(pattern=NAME_PATTERN)]) -> Any:
    operator_only(request)
    return JSON(svc.revoke(ctx_of(request), name, actor=API_ACTOR))
