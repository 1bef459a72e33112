"""What a card needs to say beyond its row: the latest run summary, and whether it needs attention.

Diagnostics are computed from the facts the dispatcher already keeps on the task (failure counter,
last error, assignee, lease): nothing is stored for them, so they vanish as soon as the cause does.

- ``repeated_failures``: attempts failed in a row (``error`` once the retry limit is reached).
- ``unknown_assignee``: waiting for a profile that is not configured, so no worker will ever start.
- ``stuck``: running, but its lease expired (the worker stopped reporting); the reaper will act,
  an operator can reclaim now.
"""

from __future__ import annotations

from typing import Any

from ..store import insights as store_insights
from .base import Ctx

SEVERITY_ORDER = ("warning", "error", "critical")
_RANK = {name: i for i, name in enumerate(SEVERITY_ORDER)}
_WAITING = {"todo", "ready", "blocked"}
_OPEN = {"triage", "todo", "ready", "running", "review", "blocked"}


def _action(kind: str, label: str, **payload: Any) -> dict[str, Any]:
    return {"kind": kind, "label": label, "payload": payload or None}


def diagnose(card: dict[str, Any], profiles: frozenset[str], failure_limit: int,
             now: float) -> list[dict[str, Any]]:
    """The diagnostics of one task (a row as a dict: status, assignee, failures, lease...)."""
    status = card["status"]
    out: list[dict[str, Any]] = []
    failures = card.get("consecutive_failures") or 0
    if failures and status in _OPEN:
        limit = card.get("max_retries") or failure_limit
        out.append({
            "kind": "repeated_failures", "severity": "error" if failures >= limit else "warning",
            "title": f"{failures} failed attempt{'s' if failures != 1 else ''} in a row",
            "detail": (card.get("last_failure_error") or "no error recorded")[:500],
            "first_seen_at": None, "last_seen_at": card.get("updated_at"),
            "actions": [_action("reassign", "Reassign", reclaim_first=status == "running"),
                        _action("comment", "Comment")]})
    assignee = card.get("assignee")
    if assignee and status in _WAITING and assignee.lower() not in profiles:
        out.append({
            "kind": "unknown_assignee", "severity": "warning",
            "title": f"no profile named {assignee!r} is configured",
            "detail": "No worker will start for this task until the profile exists in config.yaml "
                      "or the task is given to a configured profile.",
            "first_seen_at": None, "last_seen_at": now,  # a standing condition, seen now
            "actions": [_action("reassign", "Reassign")]})
    expires = card.get("claim_expires")
    if status == "running" and expires is not None and expires < now:
        out.append({
            "kind": "stuck", "severity": "error",
            "title": "the worker stopped reporting (lease expired)",
            "detail": f"The lease ran out {int(now - expires)} s ago; the dispatcher will reclaim it, "
                      "or reclaim it now.",
            "first_seen_at": expires, "last_seen_at": now,
            "actions": [_action("reclaim", "Reclaim")]})
    return out


def warnings(diags: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not diags:
        return None
    kinds: dict[str, int] = {}
    highest, rank, latest = "", -1, 0.0
    for d in diags:  # one plain loop: this runs for every card of a 10,000-task board
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        r = _RANK[d["severity"]]
        if r > rank:
            highest, rank = d["severity"], r
        latest = max(latest, d["last_seen_at"] or 0)
    return {"count": len(diags), "highest_severity": highest, "kinds": kinds,
            "latest_at": latest or None}


def _profiles(ctx: Ctx) -> frozenset[str]:
    return frozenset(name.lower() for name in ctx.settings.profiles)


def annotate(ctx: Ctx, board: str, cards: list[dict[str, Any]], now: float) -> None:
    """Add ``latest_summary``, ``diagnostics`` and ``warnings`` to a board's cards (one query).

    A card with no failure and no lease can only be flagged for its assignee, so those cards
    share one diagnosis per assignee and status group (a 10,000-card board builds a handful)."""
    with ctx.store.read() as conn:
        summaries = store_insights.latest_summaries(conn, board, [c["id"] for c in cards])
    profiles, limit = _profiles(ctx), ctx.settings.dispatch.failure_limit
    shared: dict[tuple[str, str], tuple[list[dict[str, Any]], dict[str, Any] | None]] = {}
    for card in cards:
        card["goal_mode"] = bool(card.get("goal_mode"))
        card["requires_approval"] = bool(card.get("requires_approval"))
        card["latest_summary"] = summaries.get(card["id"])
        status = card["status"]
        if status not in _OPEN:
            card["diagnostics"], card["warnings"] = [], None
        elif card.get("consecutive_failures") or status == "running":
            diags = diagnose(card, profiles, limit, now)
            card["diagnostics"], card["warnings"] = diags, warnings(diags)
        else:
            key = (card.get("assignee") or "", "waiting" if status in _WAITING else "other")
            if key not in shared:
                diags = diagnose(card, profiles, limit, now)
                shared[key] = (diags, warnings(diags))
            card["diagnostics"], card["warnings"] = shared[key]


def annotate_one(ctx: Ctx, card: dict[str, Any], now: float) -> dict[str, Any]:
    with ctx.store.read() as conn:
        card["latest_summary"] = store_insights.latest_summary(conn, card["id"])
    diags = diagnose(card, _profiles(ctx), ctx.settings.dispatch.failure_limit, now)
    card["diagnostics"] = diags
    card["warnings"] = warnings(diags)
    return card


def child_results(ctx: Ctx, task_id: str) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        return store_insights.children(conn, task_id)
