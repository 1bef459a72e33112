"""Why a task is not moving, in one short phrase: the one answer every surface shows (the card, the
drawer, ``kanban show`` and ``kanban list``, the API).

The phrase comes from the facts the dispatcher decides on (:mod:`.dispatching`, :mod:`.budgets`,
:mod:`.backoff`, the configured profiles and caps), read once for a whole page of cards: what it
costs grows with the page, never with the board.

:data:`CAUSES` is one ordered list. For a card, the first cause that applies to its status and
answers is the reason; a card no cause answers for is moving (running, finished, or about to be
started). The ready causes follow the order in which the dispatcher refuses a task. A new gate
adds its cause here, at the place the dispatcher checks it, and the facts it needs to
:class:`Facts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import Profile
from ..domain import events as ev
from ..domain.models import Runner
from ..store import runners as store_runners
from ..store import runs as store_runs
from ..store import why as store_why
from . import backoff, budgets, dispatching, health
from .base import Ctx
from .runners import is_online

MAX_ERROR = 160  # characters of a last error quoted in a phrase


def clock(ts: float, now: float) -> str:
    """A time of day as people read it on a board: ``14:05``, with the date when not today."""
    t, n = time.localtime(ts), time.localtime(now)
    return time.strftime("%H:%M" if t[:3] == n[:3] else "%Y-%m-%d %H:%M", t)


def _short(text: str | None) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= MAX_ERROR else line[:MAX_ERROR - 1] + "…"


@dataclass
class Facts:
    """What the causes read, gathered once for a batch of cards of one board."""

    now: float
    board: str
    profiles: dict[str, Profile]  # names folded to lower case, as assignees are stored
    profile_names: list[str]  # as written in the config, for the phrase
    failure_limit: int
    board_cap: int | None
    open_by_profile: dict[str, int] = field(default_factory=dict)
    open_on_board: int = 0
    gate: budgets.Gate | None = None
    retries: dict[str, backoff.Retry] = field(default_factory=dict)
    parents: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    blocks: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    dispatcher: dict[str, Any] | None = None  # health.dispatcher_status, None when never seen
    runners: list[Runner] = field(default_factory=list)  # registered, not revoked
    runs_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ready task -> labels it needs

    def online(self, runner: Runner) -> bool:
        return is_online(runner, self.now)

    def local(self, card: dict[str, Any]) -> bool:
        """Whether the local dispatcher may start it (a profile here, no runner labels needed)."""
        return _key(card) in self.profiles and card["id"] not in self.runs_on


Explain = Callable[[dict[str, Any], Facts], str | None]


@dataclass(frozen=True)
class Cause:
    kind: str
    statuses: frozenset[str]
    explain: Explain


# -- the causes, in the order they are asked ------------------------------------------------------

def _blocked(card: dict[str, Any], f: Facts) -> str | None:
    kind, payload = f.blocks.get(card["id"], ("", {}))
    if kind == ev.GAVE_UP:
        return None  # answered by _gave_up
    reason = payload.get("reason")
    by = payload.get("by")
    who = f" by {by}" if by else ""
    return f"blocked{who}: {_short(reason)}" if reason else f"blocked{who} (no reason given)"


def _gave_up(card: dict[str, Any], f: Facts) -> str | None:
    kind, payload = f.blocks.get(card["id"], ("", {}))
    if kind != ev.GAVE_UP:
        return None
    n = payload.get("failures") or card.get("consecutive_failures") or 0
    error = card.get("last_failure_error") or payload.get("error")
    return f"gave up after {n} failed attempt{'s' if n != 1 else ''}: {_short(error) or 'no error recorded'}"


def _parent(card: dict[str, Any], f: Facts) -> str | None:
    waiting = f.parents.get(card["id"])
    if not waiting:
        return None
    pid, title, _status = waiting[0]
    more = f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else ""
    return f"waiting for parent {pid}: {_short(title)}{more}"


def _scheduled(card: dict[str, Any], f: Facts) -> str | None:
    at = card.get("scheduled_at")
    return f"scheduled for {clock(at, f.now)}" if at else "scheduled"


def _parked(card: dict[str, Any], f: Facts) -> str:
    return f"in {card['status']}: move it to ready to start"


def _unassigned(card: dict[str, Any], f: Facts) -> str | None:
    return None if card.get("assignee") else f"no assignee ({_profile_list(f)})"


def _no_profile(card: dict[str, Any], f: Facts) -> str | None:
    name = card["assignee"]
    if _key(card) in f.profiles or card["id"] in f.runs_on or any(_key(card) in r.profiles for r in f.runners):
        return None  # a task that needs runner labels is a runner's: _no_runner says which
    return f"no profile named {name} ({_profile_list(f)})"


def _no_runner(card: dict[str, Any], f: Facts) -> str | None:
    if f.local(card):
        return None
    need = set(f.runs_on.get(card["id"], ()))
    able = [r for r in f.runners if _key(card) in r.profiles and need <= set(r.labels)]
    if any(f.online(r) for r in able):
        return None
    labels = f" with labels {', '.join(sorted(need))}" if need else ""
    if able:
        last = max(able, key=lambda r: r.last_seen_at or 0)
        seen = f"last seen {clock(last.last_seen_at, f.now)}" if last.last_seen_at else "never connected"
        return f"no connected runner runs {card['assignee']}{labels} (runner {last.name} {seen})"
    return f"no runner runs {card['assignee']}{labels}: see `kanban runners list`"


def _profile_list(f: Facts) -> str:
    return f"profiles: {', '.join(f.profile_names)}" if f.profile_names else "no profiles configured"


def _no_dispatcher(card: dict[str, Any], f: Facts) -> str | None:
    if not f.local(card):
        return None  # a runner's to take
    d = f.dispatcher
    if d is None:
        return "no dispatcher running"
    if not d.get("alive"):
        return f"no dispatcher running (last seen {clock(d['last_tick'], f.now)})"
    return None


def _budget(card: dict[str, Any], f: Facts) -> str | None:
    g = f.gate
    if g is None:
        return None
    if card["id"] in g.over_limit:
        return "budget reached: " + g.over_limit[card["id"]].removeprefix("task cost limit reached: ")
    refusal = g.refuse(_key(card))
    if refusal is not None and refusal.kind == budgets.BUDGET:
        short = (refusal.reason.replace(" budget reached", "").replace("; dispatch resumes at", ", resumes")
                 .replace(" or when the limit is raised", ""))
        return f"budget reached: {short}"
    return None


def _provider_cooldown(card: dict[str, Any], f: Facts) -> str | None:
    g, key = f.gate, _key(card)
    if g is None or key not in g.cooldown_until:
        return None
    return f"cooling down after a rate limit, next try {clock(g.cooldown_until[key], f.now)}"


def _provider_cap(card: dict[str, Any], f: Facts) -> str | None:
    g = f.gate
    if g is None:
        return None
    refusal = g.refuse(_key(card))
    if refusal is None or refusal.kind != budgets.PROVIDER_CAP:
        return None
    provider, cap = g.caps[_key(card)]
    return f"provider {provider} at its limit of {cap}"


def _board_cap(card: dict[str, Any], f: Facts) -> str | None:
    if f.board_cap is not None and f.open_on_board >= f.board_cap:
        return f"board at its limit of {f.board_cap}"
    return None


def _profile_cap(card: dict[str, Any], f: Facts) -> str | None:
    key = _key(card)
    profile = f.profiles.get(key)  # a profile only runners run may have none here
    if profile is None:
        return None
    cap = profile.max_concurrency
    return f"{card['assignee']} at its limit of {cap}" if f.open_by_profile.get(key, 0) >= cap else None


def _retry(card: dict[str, Any], f: Facts) -> str | None:
    retry = f.retries.get(card["id"])
    if retry is None or retry.at <= f.now:
        return None
    if retry.failure_class == "rate_limited":
        return f"cooling down after a rate limit, next try {clock(retry.at, f.now)}"
    limit = card.get("max_retries") or f.failure_limit
    return f"retry {retry.failures + 1} of {limit} at {clock(retry.at, f.now)}"


def _awaiting_approval(card: dict[str, Any], f: Facts) -> str | None:
    """The approval gate (services.review): a person approves the start first."""
    if card.get("approval") == "approved":
        return None
    profile = f.profiles.get(_key(card))
    if card.get("requires_approval") or (profile is not None and profile.requires_approval):
        return "awaiting approval to start"
    return None


def _in_review(card: dict[str, Any], f: Facts) -> str | None:
    """Finished work waiting for its checks (services.review); a check under way is moving."""
    stage = card.get("review_stage")
    if stage == "human":
        return "awaiting a person's review: approve it or request changes"
    if card.get("current_run_id") is not None:
        return None
    waiting = _no_dispatcher(card, f)
    if waiting:
        return waiting
    if stage == "acceptance":
        return "waiting for its acceptance commands to run"
    profile = f.profiles.get(_key(card)) if card.get("assignee") else None
    by = card.get("review_by") or (profile.review.by if profile and profile.review else "a reviewer")
    return f"waiting for review by {by}"


def _key(card: dict[str, Any]) -> str:
    return str(card["assignee"]).strip().lower()


_READY = frozenset({"ready"})
CAUSES: list[Cause] = [
    Cause("gave_up", frozenset({"blocked"}), _gave_up),
    Cause("blocked", frozenset({"blocked"}), _blocked),
    Cause("parent", frozenset({"todo", "ready"}), _parent),
    Cause("scheduled", frozenset({"scheduled"}), _scheduled),
    Cause("parked", frozenset({"triage", "todo"}), _parked),
    # Ready: in the order the dispatcher refuses a task (dispatch.dispatcher._spawn_ready).
    Cause("unassigned", _READY, _unassigned),
    Cause("no_profile", _READY, _no_profile),
    Cause("no_runner", _READY, _no_runner),
    Cause("awaiting_approval", _READY, _awaiting_approval),
    Cause("no_dispatcher", _READY, _no_dispatcher),
    Cause("budget", _READY, _budget),
    Cause("provider_cooldown", _READY, _provider_cooldown),
    Cause("provider_cap", _READY, _provider_cap),
    Cause("board_cap", _READY, _board_cap),
    Cause("profile_cap", _READY, _profile_cap),
    Cause("retry", _READY, _retry),
    Cause("review", frozenset({"review"}), _in_review),
]
WAITING = frozenset(s for c in CAUSES for s in c.statuses)


def explain(card: dict[str, Any], facts: Facts) -> dict[str, str] | None:
    """``{"kind", "text"}`` of the first cause that holds ``card`` back; None when it is moving."""
    status = card["status"]
    if status not in WAITING:
        return None
    for cause in CAUSES:
        if status in cause.statuses:
            text = cause.explain(card, facts)
            if text:
                return {"kind": cause.kind, "text": text}
    return None


# -- reading the facts ----------------------------------------------------------------------------

def facts(ctx: Ctx, board: str, cards: Iterable[dict[str, Any]]) -> Facts:
    """The facts for these cards of ``board``: a handful of queries whatever their number."""
    s = ctx.settings
    f = Facts(now=ctx.now(), board=board,
              profiles={n.strip().lower(): p for n, p in s.profiles.items()},
              profile_names=sorted(s.profiles), failure_limit=s.dispatch.failure_limit,
              board_cap=s.dispatch.max_in_progress)
    ready, waiting_on_parents, blocked, checks = [], [], [], False
    for c in cards:
        status = c["status"]
        if status == "ready":
            ready.append(c)
        elif status == "review":
            checks = True
        if status in ("todo", "ready"):
            waiting_on_parents.append(c["id"])
        elif status == "blocked":
            blocked.append(c["id"])
    with ctx.store.read() as conn:
        if waiting_on_parents:
            f.parents = store_why.open_parents(conn, waiting_on_parents)
        if blocked:
            f.blocks = store_why.last_blocks(conn, blocked)
        failed = [c for c in ready if c.get("last_failure_error")]
        last = store_runs.last_closed(conn, [c["id"] for c in failed]) if failed else {}
        if ready:
            by_profile, by_board = store_runs.open_counts(conn)
            f.open_by_profile, f.open_on_board = by_profile, by_board.get(board, 0)
            f.runners = [r for r in store_runners.all_runners(conn)
                         if r.revoked_at is None and r.registered_at is not None]
            f.runs_on = store_runners.runs_on_ready(conn, board)
    bound = dispatching.profile_runs_on(ctx)
    for c in ready:
        need = bound.get(_key(c)) if c.get("assignee") else None
        if need:
            f.runs_on[c["id"]] = tuple(sorted({*need, *f.runs_on.get(c["id"], ())}))
    for c in failed:
        retry = backoff.retry_for(c["id"], "ready", c["last_failure_error"],
                                  c.get("consecutive_failures") or 0, last.get(c["id"]), s)
        if retry is not None:
            f.retries[c["id"]] = retry
    if ready or checks:
        f.dispatcher = health.dispatcher_status(ctx)
    if any(c.get("assignee") for c in ready):
        f.gate = budgets.gate(ctx, board, f.open_by_profile)
    return f


def explain_all(ctx: Ctx, board: str, cards: list[dict[str, Any]]) -> None:
    """Set ``why`` on each card (a task as a dict in the API's shape)."""
    f = facts(ctx, board, cards)
    for c in cards:
        c["why"] = explain(c, f)


def explain_one(ctx: Ctx, board: str, card: dict[str, Any]) -> dict[str, str] | None:
    return explain(card, facts(ctx, board, [card]))


def explain_task(ctx: Ctx, task: Any) -> dict[str, str] | None:
    """:func:`explain_one` for a :class:`~agentkanban.domain.models.Task`."""
    return explain_one(ctx, task.board, task.to_dict())
