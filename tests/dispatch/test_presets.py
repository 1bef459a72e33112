"""The profile presets of docs/costs.md, run as written: each agent CLI is replaced on PATH by a
stand-in that prints that tool's recorded output, and `kanban` is the real command."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest
import yaml

from agentkanban.domain.statuses import Status
from agentkanban.services import runs as runs_svc
from agentkanban.services import tasks, transitions
from agentkanban.services import usage as usage_svc

from .conftest import wait_for
from .costs_helpers import WORKERS, states

DOC = Path(__file__).resolve().parents[2] / "docs" / "costs.md"
FAKE = WORKERS / "fake_agent_cli.py"


def _block(marker: str, lang: str) -> str:
    text = DOC.read_text()
    m = re.search(rf"<!-- {marker} -->\s*```{lang}\n(.*?)\n```", text, re.S)
    assert m, f"no {lang} block after <!-- {marker} --> in docs/costs.md"
    return m.group(1)


def _exe(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _bin(tmp: Path) -> Path:
    b = tmp / "bin"
    b.mkdir()
    py = sys.executable
    _exe(b / "kanban", f'#!/bin/sh\nexec "{py}" -m agentkanban "$@"\n')
    for name, fixture in (("claude", "claude_result.json"), ("codex", "codex_exec.jsonl"),
                          ("gemini", "none"), ("aider", "none")):
        _exe(b / name, f'#!/bin/sh\nexec "{py}" "{FAKE}" {fixture} "$@"\n')
    _exe(b / "nightly-report", _block("nightly-report", "sh") + "\n")
    # The user's own step command: step 2 fails the first time it runs in a workspace.
    _exe(b / "report-step", '#!/bin/sh\necho "$1" >> "$STEPS_LOG"\n'
                            'if [ "$1" = 2 ] && [ ! -e "$KANBAN_WORKSPACE/failed-once" ]; then\n'
                            '  touch "$KANBAN_WORKSPACE/failed-once"; exit 1\nfi\n')
    return b


def test_presets_load_as_configuration(home, db_url):
    from agentkanban.config import load_settings

    (home / "config.yaml").write_text(_block("presets", "yaml"))
    s = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
    assert set(s.profiles) == {"claude", "codex", "gemini", "aider", "nightly"}
    assert all(p.resume_command and "{session_id}" in " ".join(p.resume_command) for p in s.profiles.values())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_preset_resumes_its_session_on_the_next_attempt(khome, daemon, user, tmp_path):
    b = _bin(tmp_path)
    argv_log = tmp_path / "argv.jsonl"
    cfg = yaml.safe_load(_block("presets", "yaml"))
    for name, p in cfg["profiles"].items():
        p["env"] = {**p.get("env", {}), "PATH": f"{b}:{os.environ['PATH']}", "FAKE_ARGV_LOG": str(argv_log),
                    "STEPS_LOG": str(tmp_path / "steps.log"), **({"FAKE_THEN": "rc"} if name == "aider" else {})}
    cfg["prices"] = {"gpt-5-codex": {"input_per_mtok": 1.25, "output_per_mtok": 10, "cache_read_per_mtok": 0.125}}
    (khome.path / "config.yaml").write_text(yaml.safe_dump(cfg))
    khome._ctx = None  # noqa: SLF001
    ctx = khome.ctx
    ids = {p: tasks.create(ctx, "default", title=f"{p} task", actor=user, assignee=p).task.id for p in cfg["profiles"]}
    daemon()

    def settled(tid: str, n: int) -> bool:
        s = states(ctx, tid)
        return len(s) >= n and all(v["settled_at"] is not None for v in s.values())

    agents = ("claude", "codex", "gemini", "aider")
    for p in agents:
        wait_for(lambda p=p: tasks.get(ctx, "default", ids[p]).status is Status.BLOCKED and settled(ids[p], 1),
                 what=f"{p}'s first attempt to block")
        transitions.unblock(ctx, "default", ids[p], actor=user)
    for p in (*agents, "nightly"):
        wait_for(lambda p=p: tasks.get(ctx, "default", ids[p]).status is Status.DONE, what=f"{p} to finish")

    calls: dict[str, list[list[str]]] = {}
    for line in argv_log.read_text().splitlines():
        c = json.loads(line)
        calls.setdefault(c["task"], []).append(c["argv"])
    first, second = calls[ids["claude"]]
    assert "--resume" not in first and second[:2] == ["--resume", "5d1f6c2e-8a47-4b0e-9c1d-2f3a4b5c6d7e"]
    assert calls[ids["codex"]][1][:4] == ["exec", "--json", "resume", "0199a213-81c0-7800-8aa1-bbab2a035a53"]
    assert calls[ids["gemini"]][1][:3] == ["--yolo", "--resume", "latest"]
    assert "--restore-chat-history" in calls[ids["aider"]][1]
    assert calls[ids["aider"]][1][calls[ids["aider"]][1].index("--chat-history-file") + 1] == ".aider.chat.history.md"
    # The script: step 2 failed, the retry resumed after step 1 (its reported session).
    assert (tmp_path / "steps.log").read_text().split() == ["1", "2", "2", "3"]
    nightly = runs_svc.list_runs(ctx, "default", ids["nightly"])
    assert [r.outcome for r in nightly] == ["crashed", "completed"]
    # Usage read from the agents' own output: the Claude JSON result of both attempts.
    claude = usage_svc.for_task(ctx, "default", ids["claude"])["total"]
    assert claude["reports"] == 4  # two models per result, two attempts
    assert claude["cost_usd"] == pytest.approx(2 * 0.2467385)
    assert usage_svc.for_task(ctx, "default", ids["codex"])["total"]["cost_usd"] > 0
