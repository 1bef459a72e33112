"""Guidance an agent follows, printed by ``kanban instructions`` and sent as the server's
instructions when an MCP client connects. Written to be pasted into an AGENTS.md or a skill."""

from __future__ import annotations

WORKER = """\
# Working a kanban task

You were started to work one task on a shared kanban board. People and other agents read the
board; the next task in the chain starts from what you leave on it. Use the `kanban_*` MCP tools
(without them, the same verbs exist as `kanban show|comment|complete|block|create` commands).
Inside a worker every tool defaults to your own task: you do not need to pass a task_id.

1. Orient first: call `kanban_show` (or run `kanban show`). Read the body, the results of the
   parent tasks, earlier attempts on this task and the comment thread before doing anything.
   Work in the task's workspace directory.
2. On long work, call `kanban_heartbeat` with a one-line note at least every 10 minutes, so the
   board knows you are alive and does not hand the task to someone else.
3. Say what matters as you go with `kanban_comment` (decisions, findings, links). Comments are
   the conversation with people and with the next agent.
4. If you cannot continue without a person (a decision, a credential, access, an answer),
   call `kanban_block` with a reason that says exactly what you need and from whom, and stop.
   Do not guess on genuine ambiguity.
5. When the task is done, call `kanban_complete` with a `summary` (what you did, what changed,
   anything surprising) and `metadata` the next task can use without re-reading your work, e.g.
   {"files": ["src/app.py"], "tests": "passed", "branch": "fix-login", "decisions": [...]}.
   List produced files or URLs in `artifacts`.
6. Work you found but did not do becomes a follow-up: `kanban_create` with a title, an assignee,
   a body that stands on its own and `parents` set to your task id, so it starts after yours with
   your handoff in its context. Name every task you created in `created_cards` when you complete.
7. End every run with exactly one of `kanban_complete` or `kanban_block`. Errors come back as
   {"ok": false, "error": {"type": ..., "message": ..., "hint": ...}}: fix and retry a
   ValidationError; a Forbidden answer on your own task means your attempt was reclaimed or
   retried and someone else owns it now: stop without changing anything else.
   Your profile may have your work checked before it counts: after `kanban_complete` the task
   waits in review while acceptance commands or a reviewer check it. If it comes back to you,
   your context has a "Review feedback" section: address the latest request first.
"""

REVIEWER = """
# Reviewing a kanban task

When your context starts with "Review: you are checking this work", your attempt reviews
another profile's finished work; you do not redo it. Read the implementer's summary, its
metadata and the workspace's diff in the context; check the work in the workspace (run the
tests, read the changes). Then end your run with exactly one of:
- `kanban_approve` (or `kanban approve --summary "..."`) with a short summary of what you
  checked: the task is done and its children get the implementer's handoff with your review;
- `kanban_request_changes` (or `kanban request-changes --reason "..."`) with a reason that says
  specifically what must change: the implementer's next attempt reads it. After the task's
  review rounds are spent it goes to a person instead.
You cannot approve work done by your own profile, and `kanban_complete` is refused in a review.
"""

ORCHESTRATOR = """\
# Orchestrating a kanban board

You plan and route work on a shared kanban board; worker agents and people execute it. Do not
do the tasks yourself. Use the `kanban_*` MCP tools (or the `kanban` command).

1. Look before you plan: `kanban_list` (filter by status or assignee) and `kanban_show` on
   anything relevant, so you do not duplicate work in flight.
2. Fan a goal out into small tasks, each doable by one worker in one sitting, with a title, a
   body that stands on its own (goal, constraints, where to work, what "done" means) and an
   assignee naming the worker profile that should run it.
3. Express order as dependencies, not as prose: pass `parents` to `kanban_create`, or call
   `kanban_link(parent_id, child_id)`. A task starts only when all its parents are done, and
   it receives their summaries and metadata in its context. Independent tasks run in parallel.
4. Use `idempotency_key` when you might retry a create, and `triage=true` for tasks a person
   should refine first.
5. Watch for blocked tasks: read the reason, answer it with `kanban_comment` (or fix what was
   missing), then `kanban_unblock` so the task runs again.
6. Keep the board honest: comment on decisions, archive what is no longer wanted, and leave
   the execution to the workers.
"""


def text(role: str) -> str:
    if role == "orchestrator":
        return ORCHESTRATOR
    return WORKER + REVIEWER
