"""Shared by the costs tests: a config with budgets, providers and prices; reading run state."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from agentkanban.services import Ctx
from agentkanban.store import usage as store_usage

from .conftest import Home

WORKERS = Path(__file__).parent / "workers"
FAKE_CLI = [sys.executable, str(WORKERS / "fake_agent_cli.py")]
COSTS_AGENT = [sys.executable, str(WORKERS / "costs_agent.py")]
USAGE_WORKER = str(WORKERS / "usage_worker.sh")


def configure(home: Home, profiles: dict[str, Any], extra: dict[str, Any] | None = None,
              **dispatch: Any) -> None:
    cfg = {"profiles": profiles, "dispatch": {"interval_seconds": 0.5, "kill_grace_seconds": 0.5,
                                              **dispatch}, **(extra or {})}
    (home.path / "config.yaml").write_text(yaml.safe_dump(cfg))
    home._ctx = None  # noqa: SLF001 - the next .ctx reads the new config


def states(ctx: Ctx, task_id: str) -> dict[int, dict[str, Any]]:
    with ctx.store.read() as conn:
        return store_usage.states_for_task(conn, task_id)
