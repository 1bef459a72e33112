"""The dispatcher's part in review (docs/review.md): starting the attempts that check finished
work (the profile's acceptance commands, then a reviewer profile), and asking people to approve
tasks that wait for it before they may start."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Profile
from ..domain.models import RUN_ACCEPTANCE, RUN_REVIEW, STAGE_ACCEPTANCE, Task
from ..services import backoff, dispatching, review, review_policy
from . import spawner

if TYPE_CHECKING:
    from .dispatcher import Dispatcher, DispatchResult

MAX_DIFF = 60_000  # characters of the workspace's diff kept for the reviewer's context


def start_checks(d: Dispatcher, board: str, waiting: list[Task], result: DispatchResult,
                 dry_run: bool) -> None:
    """One check's attempt for each task in review whose checker has room: acceptance runs as
    the implementer's profile, a review as the reviewer's; the board's and the profile's caps
    hold for both."""
    settings = d.ctx.settings
    by_profile, by_board = dispatching.open_counts(d.ctx)
    board_cap = settings.dispatch.max_in_progress
    cooling = set(backoff.waiting(d.ctx, [t.id for t in waiting if t.last_failure_error]))
    busy = d.reaper.busy_tasks(board)
    for task in waiting:
        acceptance = task.review_stage == STAGE_ACCEPTANCE
        name = task.assignee if acceptance else review_policy.policy(settings, task).by
        profile = review_policy.profile_of(settings, name)
        if name is None or profile is None:
            d._report(result.skipped_nonspawnable, {"id": task.id, "assignee": name or ""})
            continue
        if (board_cap is not None and by_board.get(board, 0) >= board_cap) or \
                by_profile.get(name, 0) >= profile.max_concurrency:
            d._report(result.skipped_capped, {"id": task.id, "assignee": name, "cap": "review"})
            continue
        if task.id in cooling or task.id in busy:
            continue
        if dry_run:
            result.spawned.append({"id": task.id, "assignee": name, "workspace": None, "pid": None})
            continue
        claim = dispatching.claim_capped(
            d.ctx, board, task.id, profile=name, lock=d.lock,
            ttl=settings.dispatch.claim_ttl_seconds,
            max_runtime=_runtime(profile) if acceptance else profile.max_runtime,
            profile_cap=profile.max_concurrency, board_cap=board_cap)
        if claim is None:
            continue
        d._start(board, claim, name, profile, result,
                 kind=RUN_ACCEPTANCE if acceptance else RUN_REVIEW)
        by_profile[name] = by_profile.get(name, 0) + 1
        by_board[board] = by_board.get(board, 0) + 1


def _runtime(profile: Profile) -> int:
    """An acceptance attempt may take each command's time limit, plus a minute to report."""
    return profile.acceptance_timeout * max(1, len(profile.acceptance)) + 60


def acceptance_launch(profile: Profile) -> tuple[list[str], dict[str, str]]:
    """The acceptance runner's command line and what it is told: the commands and their limit."""
    return ([sys.executable, "-m", "agentkanban.dispatch.acceptance"],
            {"KANBAN_ACCEPTANCE": json.dumps(profile.acceptance),
             "KANBAN_ACCEPTANCE_TIMEOUT": str(profile.acceptance_timeout)})


def note_diff(d: Dispatcher, board: str, task: Task, run_id: int, workspace: Path) -> None:
    """A reviewer sees what changed: the workspace's diff against its HEAD, where it is git."""
    rc, _ = spawner.run_command(["git", "-C", str(workspace), "rev-parse", "--git-dir"])
    if rc != 0:
        return
    _, status = spawner.run_command(["git", "-C", str(workspace), "status", "--short"])
    _, diff = spawner.run_command(["git", "-C", str(workspace), "diff", "HEAD"])
    text = f"$ git status --short\n{status}\n\n$ git diff HEAD\n{diff}"
    if len(text) > MAX_DIFF:
        text = text[:MAX_DIFF] + f"\n… [diff truncated, {len(text) - MAX_DIFF} characters more]"
    review.note_diff(d.ctx, board, task.id, run_id, text)


def ask_approval(d: Dispatcher, board: str, unapproved: dict[str, str | None],
                 result: DispatchResult) -> None:
    """Ready tasks held for a person's approval; each one not yet asked about asks now."""
    result.awaiting_approval += list(unapproved)[:200]
    fresh = [tid for tid, state in unapproved.items() if state is None]
    if fresh:
        review.request_approval(d.ctx, board, fresh)


