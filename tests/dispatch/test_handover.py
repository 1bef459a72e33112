"""Real worker processes: a worker sees its task's attachments and goal settings and attaches its own
report; the orchestrator profile answers specify, decompose and describe-auto jobs through the
ordinary verbs."""

from __future__ import annotations

import sys
from pathlib import Path

from agentkanban.services import attachments, orchestrate, orchestration, tasks

from .conftest import wait_for

WORKER = str(Path(__file__).parent / "workers" / "handover.py")


def test_worker_reads_attachments_and_goal_and_attaches_its_report(khome, daemon, user):
    khome.configure({"writer": {"command": [sys.executable, WORKER, "handover",
                                            "turns={goal_max_turns}", "goal={goal_mode}"]}})
    ctx = khome.ctx
    tid = tasks.create(ctx, "default", title="write it up", actor=user, assignee="writer", triage=True,
                       goal_mode=True, goal_max_turns=5).task.id
    given = attachments.add(ctx, "default", tid, filename="brief.txt", chunks=[b"the brief"], actor=user)
    tasks.edit(ctx, "default", tid, body="see brief.txt")
    from agentkanban.services import transitions

    transitions.set_status(ctx, "default", tid, "ready", actor=user)
    daemon()
    done = wait_for(lambda: (t := tasks.get(ctx, "default", tid)).status.value == "done" and t,
                    what="the worker to complete")
    ws = Path(done.workspace_path)
    text = (ws / "context.txt").read_text()
    stored = attachments.store_dir(ctx) / "default"
    assert "brief.txt (9 bytes" in text and str(stored / given.stored_name) in text
    assert "Goal mode: on (at most 5 turns)" in text
    assert "goal_mode=1 turns=5" in text and "argv=turns=5 goal=1" in text
    atts = attachments.for_task(ctx, tid)
    assert [(a.filename, a.uploaded_by) for a in atts] == [("brief.txt", "user"), ("report.md", "writer")]
    assert attachments.get(ctx, atts[1].id)[1].read_text() == "# Report\nall good\n"


def test_orchestrator_profile_specifies_decomposes_and_describes(khome, daemon, user):
    khome.configure({"planner": {"command": [sys.executable, WORKER, "specify"]},
                     "splitter": {"command": [sys.executable, WORKER, "decompose"]},
                     "describer": {"command": [sys.executable, WORKER, "describe"]},
                     "coder": {"command": ["true"]}})
    ctx = khome.ctx
    idea = tasks.create(ctx, "default", title="login", actor=user, triage=True).task.id
    orchestration.update_settings(ctx, {"orchestrator_profile": "planner", "default_assignee": "coder"})
    daemon()
    out = orchestrate.specify(ctx, "default", idea, wait=90)
    assert out["ok"] is True, out
    assert out["new_title"] == "Specified: add login"
    task = tasks.get(ctx, "default", idea)
    assert (task.title, task.status.value) == ("Specified: add login", "ready")  # out of triage, no parents
    assert "Acceptance" in (task.body or "")
    assert tasks.get(ctx, "default", out["job_id"]).status.value == "archived"

    root = tasks.create(ctx, "default", title="big feature", actor=user, triage=True).task.id
    orchestration.update_settings(ctx, {"orchestrator_profile": "splitter"})
    out = orchestrate.decompose(ctx, "default", root, wait=90)
    assert out["ok"] is True and out["fanout"] is True, out
    first, second = (tasks.get(ctx, "default", c) for c in out["child_ids"])
    assert (first.title, first.assignee) == ("design the schema", "coder")
    assert second.assignee == "coder"  # an unknown profile falls back to the default assignee
    detail = tasks.show(ctx, "default", root)
    assert sorted(detail.parents) == sorted(out["child_ids"]) and detail.task.status.value == "todo"
    assert tasks.show(ctx, "default", second.id).parents == [first.id]

    orchestration.update_settings(ctx, {"orchestrator_profile": "describer"})
    out = orchestrate.describe_auto(ctx, "default", "coder", overwrite=False, wait=90)
    assert out["ok"] is True, out
    coder = {p["name"]: p for p in orchestration.roster(ctx)}["coder"]
    assert coder["description"] == "writes and reviews Python" and coder["description_auto"] is True
    again = orchestrate.describe_auto(ctx, "default", "coder", overwrite=False, wait=0)
    assert again["ok"] is False and "overwrite" in again["reason"]
