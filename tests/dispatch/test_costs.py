"""Every attempt builds on the last: checkpoints, log tails and sessions, with real workers and a
real daemon; usage read from recorded Claude Code and Codex output and reported by the CLI."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from agentkanban.dispatch.costs import segment
from agentkanban.domain.statuses import Status
from agentkanban.services import boards as boards_svc
from agentkanban.services import dispatching, tasks, transitions
from agentkanban.services import runs as runs_svc
from agentkanban.services import usage as usage_svc
from agentkanban.services.usage import day_of

from .conftest import wait_for
from .costs_helpers import COSTS_AGENT, FAKE_CLI, USAGE_WORKER, configure, states

CLAUDE_SESSION = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CODEX_THREAD = "0199a213-81c0-7800-8aa1-bbab2a035a53"
STREAM = {"input_tokens": 9, "output_tokens": 219, "cache_read_tokens": 31800, "cache_write_tokens": 6530}
STREAM_COST = 0.04120455
CODEX = {"input_tokens": 6861, "output_tokens": 1967, "cache_read_tokens": 49152, "cache_write_tokens": 0}
CODEX_PRICE = {"input_per_mtok": 1.25, "output_per_mtok": 10.0, "cache_read_per_mtok": 0.125}
CODEX_COST = (6861 * 1.25 + 1967 * 10.0 + 49152 * 0.125) / 1_000_000


def _status(home, tid):
    return tasks.get(home.ctx, "default", tid).status


def test_retry_context_holds_the_crashed_attempts_outcome_checkpoint_and_log(khome, daemon, user):
    configure(khome, {"coder": {"command": [*COSTS_AGENT, "checkpoint-crash"]}}, failure_limit=3)
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="parse the grammar", actor=user, assignee="coder").task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.DONE, what="the retry to finish")
    first, second = runs_svc.list_runs(ctx, "default", t.id)
    assert first.outcome == "crashed" and second.outcome == "completed"
    kept = states(ctx, t.id)[first.id]
    assert kept["checkpoint_note"] == "parsed 3 of 5 grammar files"
    assert kept["checkpoint_data"] == {"done": ["a.g", "b.g", "c.g"], "next": "d.g"}
    assert "LOG-MARKER-7f3a" in kept["log_tail"] and len(kept["log_tail"]) <= 4096
    # What attempt 2 was given (it printed its context into its part of the log):
    doc = segment(ctx, "default", t.id, second.id).decode()
    assert "## Prior attempts on this task (newest first)" in doc
    assert "### Attempt 1 — crashed" in doc and "_exit code_: 3" in doc
    assert "_last checkpoint_: parsed 3 of 5 grammar files" in doc
    assert '"next": "d.g"' in doc
    assert "    KeyError: 'LOG-MARKER-7f3a'" in doc  # the log tail, as an indented block


def _argv_log(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _profiles(argv_log):
    env = {"FAKE_ARGV_LOG": str(argv_log)}
    return {
        "claude": {"command": [*FAKE_CLI, "claude_stream.jsonl", "-p", "work on {task_id}",
                               "--output-format", "stream-json", "--verbose"],
                   "resume_command": [*FAKE_CLI, "claude_stream.jsonl", "--resume", "{session_id}",
                                      "-p", "carry on with {task_id}", "--output-format", "stream-json"],
                   "usage_from": "claude-json", "env": env, "max_concurrency": 2},
        "codex": {"command": [*FAKE_CLI, "codex_exec.jsonl", "exec", "--json", "work on {task_id}"],
                  "resume_command": [*FAKE_CLI, "codex_exec.jsonl", "exec", "--json", "resume",
                                     "{session_id}", "carry on with {task_id}"],
                  "usage_from": "codex-json", "model": "gpt-5-codex", "env": env},
        "quiet": {"command": [*FAKE_CLI, "none", "work"],
                  "resume_command": [*FAKE_CLI, "none", "--resume", "{session_id}"], "env": env},
    }


def _settled(ctx, tid, n):
    s = states(ctx, tid)
    return len(s) >= n and all(v["settled_at"] is not None for v in s.values())


def test_resume_after_unblock_and_usage_parsed_from_agent_output(khome, daemon, user, tmp_path):
    argv_log = tmp_path / "argv.jsonl"
    configure(khome, _profiles(argv_log), {"prices": {"gpt-5-codex": CODEX_PRICE}})
    ctx = khome.ctx
    ids = {p: tasks.create(ctx, "default", title=f"{p} work", actor=user, assignee=p).task.id
           for p in ("claude", "codex", "quiet")}
    daemon()
    for p, tid in ids.items():
        wait_for(lambda tid=tid: _status(khome, tid) is Status.BLOCKED and _settled(ctx, tid, 1),
                 what=f"{p}'s first attempt to block and be settled")
    assert states(ctx, ids["claude"])[runs_svc.list_runs(ctx, "default", ids["claude"])[0].id][
        "session_id"] == CLAUDE_SESSION
    for tid in ids.values():
        transitions.unblock(ctx, "default", tid, actor=user)
    wait_for(lambda: all(_status(khome, ids[p]) is Status.DONE for p in ("claude", "codex")),
             what="the resumed attempts to finish")
    wait_for(lambda: _status(khome, ids["quiet"]) is Status.BLOCKED and _settled(ctx, ids["quiet"], 2)
             and all(_settled(ctx, ids[p], 2) for p in ("claude", "codex")),
             what="every second attempt to be settled")
    calls = {}
    for c in _argv_log(argv_log):
        calls.setdefault(c["task"], []).append(c["argv"])
    assert calls[ids["claude"]][0][:2] == ["-p", f"work on {ids['claude']}"]
    assert calls[ids["claude"]][1][:4] == ["--resume", CLAUDE_SESSION, "-p", f"carry on with {ids['claude']}"]
    assert calls[ids["codex"]][1][:5] == ["exec", "--json", "resume", CODEX_THREAD, f"carry on with {ids['codex']}"]
    assert calls[ids["quiet"]] == [["work"], ["work"]]  # no session was reported: `command` again
    # The resumed attempt was told so in its context (the fake agent prints it to stderr).
    second = runs_svc.list_runs(ctx, "default", ids["claude"])[1]
    assert f"Resumed agent session {CLAUDE_SESSION}" in segment(ctx, "default", ids["claude"], second.id).decode()

    # Usage: each attempt's own output, counted once, summed per run, task, profile, board, day.
    claude = usage_svc.for_task(ctx, "default", ids["claude"])
    assert [r["cost_usd"] for r in claude["runs"]] == [pytest.approx(STREAM_COST)] * 2
    assert {k: claude["total"][k] for k in STREAM} == {k: 2 * v for k, v in STREAM.items()}
    codex = usage_svc.for_task(ctx, "default", ids["codex"])
    assert {k: codex["total"][k] for k in CODEX} == {k: 2 * v for k, v in CODEX.items()}
    assert codex["total"]["cost_usd"] == pytest.approx(2 * CODEX_COST, abs=1e-6)
    assert usage_svc.for_task(ctx, "default", ids["quiet"])["total"]["reports"] == 0
    by_profile = {r["profile"]: r for r in usage_svc.report(ctx, "profile", board="default")["rows"]}
    assert set(by_profile) == {"claude", "codex"}
    assert by_profile["claude"]["cost_usd"] == pytest.approx(2 * STREAM_COST)
    assert by_profile["claude"]["tokens"] == 2 * sum(STREAM.values())
    total = usage_svc.report(ctx, "board,day")
    [row] = total["rows"]
    assert (row["board"], row["day"]) == ("default", day_of(ctx.now()))
    assert row["cost_usd"] == pytest.approx(2 * (STREAM_COST + CODEX_COST), abs=1e-6)
    assert total["total"]["tokens"] == 2 * (sum(STREAM.values()) + sum(CODEX.values()))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_resume_after_a_profile_change_or_a_lost_workspace(khome, daemon, user, tmp_path):
    argv_log = tmp_path / "argv.jsonl"
    profiles = _profiles(argv_log)
    configure(khome, {"claude": profiles["claude"], "claude-b": profiles["claude"]})
    ctx = khome.ctx
    moved = tasks.create(ctx, "default", title="moved", actor=user, assignee="claude").task
    lost = tasks.create(ctx, "default", title="lost", actor=user, assignee="claude").task
    d = daemon()
    for tid in (moved.id, lost.id):
        wait_for(lambda tid=tid: _status(khome, tid) is Status.BLOCKED and _settled(ctx, tid, 1),
                 what="the first attempts to block")
    d.stop()
    dispatching.reassign(ctx, "default", moved.id, "claude-b", actor=user)
    shutil.rmtree(boards_svc.workspaces_dir(ctx, "default") / lost.id)
    for tid in (moved.id, lost.id):
        transitions.unblock(ctx, "default", tid, actor=user)
    daemon()
    for tid in (moved.id, lost.id):
        wait_for(lambda tid=tid: _status(khome, tid) is Status.BLOCKED
                 and len(runs_svc.list_runs(ctx, "default", tid)) == 2 and _settled(ctx, tid, 2),
                 what="the second attempts")
    calls = {}
    for c in _argv_log(argv_log):
        calls.setdefault(c["task"], []).append(c["argv"])
    for tid in (moved.id, lost.id):
        assert "--resume" not in calls[tid][1]
    doc = segment(ctx, "default", moved.id, runs_svc.list_runs(ctx, "default", moved.id)[1].id).decode()
    assert (f"not resuming session {CLAUDE_SESSION}: it was left by profile 'claude', and this "
            "attempt runs as 'claude-b'") in doc
    doc = segment(ctx, "default", lost.id, runs_svc.list_runs(ctx, "default", lost.id)[1].id).decode()
    assert "no longer exists" in doc and "Started afresh" in doc


def test_usage_reported_with_the_cli_is_priced_and_summed(khome, daemon, user):
    configure(khome, {"scripted": {"command": [USAGE_WORKER], "env": {"KANBAN_PY": sys.executable}}},
              {"prices": {"priced-model": {"input_per_mtok": 3, "output_per_mtok": 15}}})
    ctx = khome.ctx
    t = tasks.create(ctx, "default", title="script", actor=user, assignee="scripted").task
    daemon()
    wait_for(lambda: _status(khome, t.id) is Status.DONE, what="the script to finish")
    [run] = runs_svc.list_runs(ctx, "default", t.id)
    kept = states(ctx, t.id)[run.id]
    assert kept["checkpoint_note"] == "starting" and kept["checkpoint_data"] == {"step": 1}
    assert kept["session_id"] == f"shell-{run.id}"
    u = usage_svc.for_task(ctx, "default", t.id)
    assert u["total"]["reports"] == 2
    assert u["total"]["input_tokens"] == 2_001_000 and u["total"]["output_tokens"] == 1_000_200
    assert u["total"]["cost_usd"] == pytest.approx(0.25 + 2 * 3 + 1 * 15)
    models = {r["model"]: r["cost_usd"] for r in usage_svc.report(ctx, "model", board="default")["rows"]}
    assert models == {"gpt-test": pytest.approx(0.25), "priced-model": pytest.approx(21.0)}
