"""Remote runners, as the operator and the board see them: tokens, registration, who is online.

A runner proves itself with a runner token (``kbr_...``), of which only the hash is stored. A
token is made for one runner name and may be limited to some profiles and labels; a revoked token
is refused everywhere and the attempts its runner held are ended. The work a runner does (claim,
lease, log, exit) is in :mod:`.runner_work`.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import secrets
from typing import Any

from ..config import runner_labels
from ..domain.models import OUTCOME_RECLAIMED, Run, Runner
from ..errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from ..store import runners as store_runners
from .base import Actor, Ctx, hash_token
from .common import clean_assignee
from .runs import end_attempt

log = logging.getLogger("agentkanban.runners")

TOKEN_PREFIX = "kbr_"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
POLL_SECONDS = 25.0  # how long a claim waits for work by default
MAX_POLL_SECONDS = 60.0
MAX_CAPACITY = 256
MAX_PROFILES = 64
MAX_LOG_CHUNK = 256 * 1024  # bytes of a worker's output a runner sends at once
# A runner is online while it has been heard from within this long (it asks for work at least
# every POLL_SECONDS, and extends its leases more often).
ONLINE_SECONDS = 2 * POLL_SECONDS + 15


def clean_name(name: str) -> str:
    value = (name or "").strip().lower()
    if not NAME_RE.fullmatch(value):
        raise ValidationError(f"{name!r} is not a runner name (lower-case letters, digits and ._-, "
                              "at most 64 characters, e.g. build-mac-1)")
    return value


def clean_profiles(profiles: Any) -> list[str]:
    if profiles is None:
        return []
    if not isinstance(profiles, (list, tuple)) or len(profiles) > MAX_PROFILES:
        raise ValidationError(f"profiles must be a list of at most {MAX_PROFILES} profile names")
    out = set()
    for p in profiles:
        name = clean_assignee(p) if isinstance(p, str) else None
        if not name:
            raise ValidationError(f"{p!r} is not a profile name")
        out.add(name)
    return sorted(out)


# -- the operator -------------------------------------------------------------------------------
def create_token(ctx: Ctx, name: str, *, profiles: list[str] | None = None,
                 labels: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """A new runner token for ``name``: the runner's description and the token, shown once.
    ``profiles``/``labels`` limit what the runner may offer (None or empty: anything)."""
    name = clean_name(name)
    allowed_p = clean_profiles(profiles) or None
    allowed_l = runner_labels(labels) or None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = ctx.now()
    with ctx.store.write() as tx:
        old = store_runners.get(tx.conn, name)
        if old is not None and old.revoked_at is None:
            raise Conflict(f"runner {name!r} already has a token; revoke it first (`kanban runners "
                           f"revoke {name}`) or choose another name")
        store_runners.put(tx.conn, name=name, token_hash=hash_token(token), allowed_profiles=allowed_p,
                          allowed_labels=allowed_l, now=now)
        runner = store_runners.get(tx.conn, name)
    assert runner is not None
    log.info("runner token made for %s (profiles: %s, labels: %s)", name,
             ", ".join(allowed_p or ["any"]), ", ".join(allowed_l or ["any"]))
    return describe(runner, [], now), token


def list_runners(ctx: Ctx) -> list[dict[str, Any]]:
    now = ctx.now()
    with ctx.store.read() as conn:
        every = store_runners.all_runners(conn)
        held = store_runners.open_runs(conn)
    return [describe(r, [(x, b) for x, b in held if (x.claim_lock or "").startswith(r.lock_prefix)], now)
            for r in every]


def revoke(ctx: Ctx, name: str, *, actor: Actor) -> dict[str, Any]:
    """Refuse the runner's token from now on and end the attempts it holds (put back to ready)."""
    name = clean_name(name)
    now = ctx.now()
    with ctx.store.write() as tx:
        runner = store_runners.get(tx.conn, name)
        if runner is None or runner.revoked_at is not None:
            raise NotFound(f"no runner {name!r} with a live token; see `kanban runners list`")
        store_runners.set_fields(tx.conn, name, {"revoked_at": now})
        held = store_runners.open_runs(tx.conn, name)
    ended = []
    for run, board in held:
        task = ctx.retry.run(functools.partial(
            end_attempt, ctx, board, run.task_id, run.id, outcome=OUTCOME_RECLAIMED,
            error=f"runner {name} was revoked by {actor.name}", count_failure=False,
            failure_limit=ctx.settings.dispatch.failure_limit,
            payload={"reason": "runner_revoked", "runner": name, "by": actor.name}))
        if task is not None:
            ended.append(run.task_id)
    log.warning("runner %s revoked by %s; %d attempt(s) ended", name, actor.name, len(ended))
    with ctx.store.read() as conn:
        runner = store_runners.get(conn, name)
    assert runner is not None
    return {"runner": describe(runner, [], now), "ended": ended}


def is_online(runner: Runner, now: float) -> bool:
    """Heard from within ONLINE_SECONDS and not revoked."""
    seen = runner.last_seen_at
    return runner.revoked_at is None and seen is not None and now - seen < ONLINE_SECONDS


def describe(runner: Runner, held: list[tuple[Run, str]], now: float) -> dict[str, Any]:
    seen = runner.last_seen_at
    return {
        "name": runner.name, "labels": list(runner.labels), "profiles": list(runner.profiles),
        "allowed_profiles": list(runner.allowed_profiles) if runner.allowed_profiles is not None else None,
        "allowed_labels": list(runner.allowed_labels) if runner.allowed_labels is not None else None,
        "capacity": runner.capacity, "version": runner.version, "host": runner.host,
        "created_at": runner.created_at, "registered_at": runner.registered_at, "last_seen_at": seen,
        "revoked": runner.revoked_at is not None, "revoked_at": runner.revoked_at,
        "online": is_online(runner, now),
        "running": [{"task_id": r.task_id, "board": board, "run_id": r.id, "profile": r.profile}
                    for r, board in held],
    }


# -- the runner ---------------------------------------------------------------------------------
def authenticate(ctx: Ctx, token: str | None) -> Runner:
    """The runner a token belongs to; :class:`Unauthorized` for a wrong or revoked one."""
    refused = Unauthorized("the runner token is wrong or was revoked; make a new one with "
                           "`kanban runners token create NAME` on the board's server")
    if not token or not token.startswith(TOKEN_PREFIX):
        raise refused
    digest = hash_token(token)
    with ctx.store.read() as conn:
        runner = store_runners.by_token_hash(conn, digest)
    if runner is None or runner.revoked_at is not None or \
            not hmac.compare_digest(runner.token_hash.encode(), digest.encode()):
        raise refused
    return runner


def register(ctx: Ctx, token: str | None, *, labels: Any, profiles: Any, capacity: Any,
             version: str | None, host: str | None) -> dict[str, Any]:
    """A runner says what it is. Everything offered must be within its token's limits."""
    runner = authenticate(ctx, token)
    offered = clean_profiles(profiles)
    if not offered:
        raise ValidationError("a runner with no profiles is given no work: add profiles: to its "
                              "runner.yaml")
    tags = runner_labels(labels)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(f"capacity must be a whole number from 1 to {MAX_CAPACITY}")
    _within(runner, "profiles", offered, runner.allowed_profiles, "--profile")
    _within(runner, "labels", tags, runner.allowed_labels, "--label")
    now = ctx.now()
    with ctx.store.write() as tx:
        store_runners.set_fields(tx.conn, runner.name, {
            "labels": tags, "profiles": offered, "capacity": capacity,
            "version": (version or "")[:64] or None, "host": (host or "")[:255] or None,
            "registered_at": now, "last_seen_at": now})
    log.info("runner %s registered from %s (version %s): profiles %s, labels [%s], capacity %d",
             runner.name, host or "?", version or "?", ", ".join(offered), ", ".join(tags), capacity)
    return {"runner": {"name": runner.name, "labels": tags, "profiles": offered, "capacity": capacity},
            "lease_seconds": float(ctx.settings.dispatch.claim_ttl_seconds),
            "poll_seconds": POLL_SECONDS, "max_log_chunk": MAX_LOG_CHUNK}


def _within(runner: Runner, what: str, offered: list[str], allowed: tuple[str, ...] | None,
            flag: str) -> None:
    if allowed is None:
        return
    extra = sorted(set(offered) - set(allowed))
    if extra:
        raise Forbidden(f"runner {runner.name}'s token allows {what} {', '.join(allowed)} only; it "
                        f"offered {', '.join(extra)} (make a new token with {flag} for each, or "
                        "remove them from its runner.yaml)")
