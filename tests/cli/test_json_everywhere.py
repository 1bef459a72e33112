"""Every command that reads takes `--json` and prints valid JSON; a new command must say which
kind it is here, so none is forgotten."""

from __future__ import annotations

import json

import click

from agentkanban.cli import cli

# Commands that read, with the arguments each needs ("{tid}": a task on the board).
READS: dict[str, list[str]] = {
    "list": [], "ls": [], "show": ["{tid}"], "context": ["{tid}"], "runs": ["{tid}"],
    "stats": [], "assignees": [], "log": ["{tid}"], "attachments": ["{tid}"],
    "notify-list": [], "watch": ["--since", "0", "--count", "2"],
    "tail": ["{tid}", "--count", "2"], "boards list": [], "boards show": [], "db current": [],
    "db check": [], "status": [], "doctor": [], "schedule list": [], "usage report": [],
    "instructions": [], "dispatch": ["--dry-run"], "labels": [], "activity": [],
    "graph": ["{tid}"], "runners list": [],
}
# Reads whose output is JSON always (one record per line).
JSON_LINES = {"export"}
# Commands that change something (they may print JSON too; not required).
WRITES = {
    "init", "create", "assign", "edit", "priority", "move", "link", "unlink", "comment", "complete",
    "approve", "request-changes", "approve-start", "label add", "label remove", "label set",
    "label color", "due", "block", "unblock", "archive", "promote", "gc", "notify-subscribe", "notify-unsubscribe",
    "notify-retry", "heartbeat", "reclaim", "reassign", "session", "usage", "attach", "delete",
    "defer", "specify", "decompose", "backup", "restore", "import", "boards create",
    "boards rename", "boards switch", "boards rm", "db upgrade", "schedule add", "schedule pause",
    "schedule resume", "schedule rm", "runners token create", "runners revoke",
}
# Commands that run until stopped.
LOOPS = {"serve", "daemon", "notifier", "mcp", "runner"}
# Streaming reads: `watch` and `tail` print one JSON object per line with --json.
STREAMS = {"watch", "tail"}


def _walk(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    ctx = click.Context(group)
    out: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            out.update(_walk(command, path + " "))
            if command.invoke_without_command:
                out[path] = command
        else:
            out[path] = command
    return out


COMMANDS = _walk(cli)


def test_every_command_is_a_read_a_write_or_a_loop() -> None:
    known = set(READS) | JSON_LINES | WRITES | LOOPS
    assert set(COMMANDS) - known == set(), "classify the new command in this test"
    assert known - set(COMMANDS) == set()


def test_every_read_takes_json() -> None:
    missing = [path for path in READS
               if "--json" not in {o for p in COMMANDS[path].params for o in getattr(p, "opts", [])}]
    assert missing == []


def test_every_read_prints_valid_json(kanban) -> None:
    tid = kanban("create", "read me", "--body", "a body", "--json").json()["task"]["id"]
    assert kanban("comment", tid, "a comment").code == 0
    assert kanban("schedule", "add", "weekly", "--cron", "0 9 * * MON").code == 0
    for path, args in READS.items():
        r = kanban(*path.split(), *[a.format(tid=tid) for a in args], "--json")
        # status and doctor exit 1 when something needs a person (no dispatcher here); the JSON says so.
        assert r.code in ((0, 1) if path in ("status", "doctor", "db check") else (0,)), (path, r.err)
        if path in STREAMS:
            lines = r.out.splitlines()
            assert len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines), path
        else:
            assert isinstance(json.loads(r.out), dict | list), path
    exported = kanban("export")
    assert exported.code == 0
    assert all(isinstance(json.loads(line), dict) for line in exported.out.splitlines())


def test_context_and_db_current_in_json(kanban) -> None:
    tid = kanban("create", "ctx", "--json").json()["task"]["id"]
    ctx = kanban("context", tid, "--json").json()
    assert ctx["task_id"] == tid and ctx["context"] == kanban("context", tid).out
    current = kanban("db", "current", "--json").json()
    assert current["up_to_date"] is True and current["revision"] == current["head"]
    assert kanban("db", "current").out.strip() == current["revision"]
