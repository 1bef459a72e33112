"""The review part of a worker's context: what a reviewer checks, and what an implementer was
asked to change (docs/review.md)."""

from __future__ import annotations

import json

from ..config import Settings
from ..domain.models import OUTCOME_COMPLETED, RUN_REVIEW, RUN_WORK, Run, Task
from ..domain.statuses import Status
from .review import thread
from .review_policy import policy

FIELD_CAP = 8_000


def _cap(text: str) -> str:
    return text if len(text) <= FIELD_CAP else text[:FIELD_CAP] + "\n… [truncated]"


def section(settings: Settings, task: Task, runs: list[Run]) -> list[str]:
    asked = thread(runs)
    pol = policy(settings, task)
    current = next((r for r in runs if r.id == task.current_run_id), None)
    if task.status is Status.REVIEW and current is not None and current.kind == RUN_REVIEW:
        work = next((r for r in reversed(runs)
                     if r.kind == RUN_WORK and r.outcome == OUTCOME_COMPLETED), None)
        out = ["", "## Review: you are checking this work",
               f"Round {task.review_rounds + 1} of at most {pol.max_rounds}. Work by "
               f"@{work.profile if work else task.assignee}.",
               "End this attempt with `kanban approve --summary \"...\"` (the work counts) or "
               "`kanban request-changes --reason \"what must change\"` (back to the implementer).",
               "", "### The implementer's summary",
               _cap(work.summary) if work and work.summary else "(no summary)"]
        if work and work.metadata:
            out.append(f"_metadata_: `{_cap(json.dumps(work.metadata, sort_keys=True))}`")
        diff = (current.metadata or {}).get("diff")
        if diff:
            out += ["", "### What changed in the workspace", "```", _cap(str(diff)), "```"]
        if asked:
            out += ["", "### Changes requested before", asked]
        return out
    if asked and task.status is not Status.DONE:
        return ["", f"## Review feedback (round {task.review_rounds} of at most {pol.max_rounds})",
                "Your earlier work was sent back. Address the latest request before completing "
                "again:", asked]
    return []
