"""The one rule on spending and shared accounts that the dispatcher consults before each claim.

:func:`gate` reads, once per pass over a board, what each profile and the board spent today and
this month (UTC), which providers are cooling down after a rate limit, and which ready tasks are
over their own ``max_cost_usd``. :meth:`Gate.refuse` then says, for one assignee, why no attempt
may start now (or None). A running attempt is never stopped here; its usage counts when reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..costsconfig import Limit
from ..domain import events as ev
from ..domain.models import OUTCOME_RATE_LIMITED
from ..store import events as store_events
from ..store import kv as store_kv
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import usage as store_usage
from .base import Actor, Ctx
from .usage import TOKEN_FIELDS, day_of

BUDGET = "budget"
COOLDOWN = "provider_cooldown"
PROVIDER_CAP = "provider_max_concurrency"
SYSTEM = Actor("budget")


@dataclass
class Spend:
    today_usd: float = 0.0
    today_tokens: int = 0
    month_usd: float = 0.0
    month_tokens: int = 0


def _rollover(now: float, monthly: bool) -> str:
    d = datetime.fromtimestamp(now, tz=UTC)
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1) if monthly else d + timedelta(days=1)
    return nxt.strftime("%Y-%m-%d 00:00 UTC")


def over(limit: Limit | None, spend: Spend, now: float) -> tuple[str, str] | None:
    """``(key, reason)`` of the first limit ``spend`` has reached; None while under all. The key
    names the limit and its window (a new window or a new limit is a new key)."""
    if limit is None:
        return None
    today = day_of(now)
    checks = (("daily", "usd", limit.daily_usd, spend.today_usd),
              ("monthly", "usd", limit.monthly_usd, spend.month_usd),
              ("daily", "tokens", limit.daily_tokens, spend.today_tokens),
              ("monthly", "tokens", limit.monthly_tokens, spend.month_tokens))
    for window, unit, cap, used in checks:
        if cap is not None and used >= cap:
            amount = f"${used:,.2f} of ${cap:,.2f}" if unit == "usd" else f"{used:,} of {cap:,} tokens"
            key = f"{window}:{unit}:{cap}:{today if window == 'daily' else today[:7]}"
            return key, (f"{window} budget reached ({amount}); dispatch resumes at "
                         f"{_rollover(now, window == 'monthly')} or when the limit is raised")
    return None


def _spend(rows: list[dict[str, Any]], key: str, today: str) -> dict[str, Spend]:
    out: dict[str, Spend] = {}
    for r in rows:
        s = out.setdefault((r[key] or "").lower(), Spend())
        tokens = sum(int(r[f] or 0) for f in TOKEN_FIELDS)
        s.month_usd += float(r["cost_usd"] or 0)
        s.month_tokens += tokens
        if r["day"] == today:
            s.today_usd += float(r["cost_usd"] or 0)
            s.today_tokens += tokens
    return out


@dataclass(frozen=True)
class Refusal:
    kind: str  # budget | provider_cooldown | provider_max_concurrency
    reason: str
    key: str | None = None  # for a budget: which limit in which window (one notification each)


@dataclass
class Gate:
    board_reason: Refusal | None = None
    profile_reasons: dict[str, Refusal] = field(default_factory=dict)  # profile -> budget
    cooldowns: dict[str, str] = field(default_factory=dict)  # profile -> provider cool-down reason
    cooldown_until: dict[str, float] = field(default_factory=dict)  # profile -> when it ends
    caps: dict[str, tuple[str, int]] = field(default_factory=dict)  # profile -> (provider, cap)
    running: dict[str, int] = field(default_factory=dict)  # provider -> open attempts
    over_limit: dict[str, str] = field(default_factory=dict)  # task id -> why it is blocked

    def refuse(self, assignee: str) -> Refusal | None:
        """Why no new attempt may start for ``assignee`` now; None when one may."""
        if self.board_reason:
            return self.board_reason
        if assignee in self.profile_reasons:
            return self.profile_reasons[assignee]
        if assignee in self.cooldowns:
            return Refusal(COOLDOWN, self.cooldowns[assignee])
        if assignee in self.caps:
            provider, cap = self.caps[assignee]
            if self.running.get(provider, 0) >= cap:
                return Refusal(PROVIDER_CAP, f"provider {provider} is at its max_concurrency of {cap}")
        return None

    def started(self, assignee: str) -> None:
        if assignee in self.caps:
            provider = self.caps[assignee][0]
            self.running[provider] = self.running.get(provider, 0) + 1


def _providers(ctx: Ctx) -> dict[str, tuple[str, list[str], int | None]]:
    """profile -> (provider, its profiles, its cap), names folded to lower case."""
    out = {}
    for name, p in ctx.settings.providers.items():
        members = [m.strip().lower() for m in p.profiles]
        for m in members:
            out[m] = (name, members, p.max_concurrency)
    return out


def provider_cap(ctx: Ctx, profile: str) -> tuple[str, list[str], int] | None:
    """``(provider, its profiles, its max_concurrency)`` when the profile's provider has a cap:
    counted again inside the claim (``dispatching.claim_capped``), so dispatchers running side by
    side never exceed it together."""
    found = _providers(ctx).get(profile.strip().lower())
    if found is None or found[2] is None:
        return None
    return found[0], found[1], found[2]


def gate(ctx: Ctx, board: str, open_by_profile: dict[str, int]) -> Gate:
    now = ctx.now()
    today = day_of(now)
    s = ctx.settings
    g = Gate()
    provs = _providers(ctx)
    cooldown = s.dispatch.rate_limit_cooldown_seconds
    with ctx.store.read() as conn:
        if s.budgets.profiles or s.budgets.boards:
            month = store_usage.daily(conn, today[:8] + "01")
            by_profile = _spend(month, "profile", today)
            by_board = _spend([r for r in month if r["board"] == board], "board", today)
            g.board_reason = _scoped("board", board, over(s.budgets.boards.get(board),
                                                           by_board.get(board, Spend()), now))
            for name, limit in s.budgets.profiles.items():
                key = name.strip().lower()
                refusal = _scoped("profile", key, over(limit, by_profile.get(key, Spend()), now))
                if refusal:
                    g.profile_reasons[key] = refusal
        for provider, members, cap in {v[0]: v for v in provs.values()}.values():
            if cap is not None:
                g.running[provider] = sum(open_by_profile.get(m, 0) for m in members)
                for m in members:
                    g.caps[m] = (provider, cap)
            if cooldown:
                last = store_usage.last_outcome(conn, members, OUTCOME_RATE_LIMITED, now - cooldown)
                if last is not None:
                    until = datetime.fromtimestamp(last.ended_at + cooldown, tz=UTC).strftime("%H:%M:%S UTC")
                    for m in members:
                        g.cooldown_until[m] = last.ended_at + cooldown
                        g.cooldowns[m] = (f"provider {provider} is cooling down after a rate limit "
                                          f"(task {last.task_id}, profile {last.profile}) until {until}")
        g.over_limit = _over_task_limits(conn, board)
    return g


def _scoped(kind: str, name: str, hit: tuple[str, str] | None) -> Refusal | None:
    if hit is None:
        return None
    return Refusal(BUDGET, f"{kind} {name}: {hit[1]}", f"budget:{kind}:{name[:40]}:{hit[0]}")


def _over_task_limits(conn: Any, board: str) -> dict[str, str]:
    limits = store_usage.ready_limits(conn, board)
    costs = store_usage.task_costs(conn, list(limits))
    return {tid: f"task cost limit reached: spent ${costs.get(tid, 0):,.2f} of its "
                 f"max_cost_usd ${cap:,.2f}; raise the limit and unblock it to go on"
            for tid, cap in limits.items() if costs.get(tid, 0) >= cap}


def announce(ctx: Ctx, board: str, refusal: Refusal, task_ids: list[str]) -> bool:
    """One notification per reached limit and window: an event on the first waiting task, owed
    to every chat subscribed to any task it holds back. False when already announced."""
    if not task_ids or refusal.key is None:
        return False
    now = ctx.now()
    key, reason = refusal.key, refusal.reason
    with ctx.store.read() as conn:  # every pass asks; only the first one writes
        if store_kv.get(conn, key) is not None:
            return False
    with ctx.store.write() as tx:
        if store_kv.get(tx.conn, key) is not None:
            return False
        store_kv.put(tx.conn, key, board, now)
        # Owed to the chats of the first waiting task (as any event is) and of the others it holds.
        extra = [(sub.platform, sub.chat_id, sub.thread_id)
                 for tid in task_ids[1:50] for sub in store_subs.for_task(tx.conn, tid)]
        store_events.append(tx, board=board, task_id=task_ids[0], kind=ev.BUDGET_REACHED, now=now,
                            payload={"reason": reason, "waiting": len(task_ids)}, also_owe=extra)
    return True


def why_waiting(ctx: Ctx, board: str, task: Any) -> str | None:
    """Why the dispatcher would not start this ready task now (a budget or its provider)."""
    if getattr(task, "status", None) is None or task.status.value != "ready" or not task.assignee:
        return None
    with ctx.store.read() as conn:
        by_profile, _by_board = store_runs.open_counts(conn)
    g = gate(ctx, board, by_profile)
    if task.id in g.over_limit:
        return g.over_limit[task.id]
    refusal = g.refuse(task.assignee)
    return refusal.reason if refusal else None


def held_scopes(ctx: Ctx, board: str) -> dict[str, Any]:
    """For the board header and cards: the board's hold and each held profile's reason."""
    with ctx.store.read() as conn:
        by_profile, _by_board = store_runs.open_counts(conn)
    g = gate(ctx, board, by_profile)
    profiles = {p: r.reason for p, r in g.profile_reasons.items()}
    profiles.update({p: r for p, r in g.cooldowns.items() if p not in profiles})
    return {"board": g.board_reason.reason if g.board_reason else None, "profiles": profiles}
