from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from agentkanban.cli import main
from agentkanban.store import engine as store_engine


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def kanban(monkeypatch, capsys, home, db_url):
    """Run the real ``kanban`` command in-process, as a user at a terminal would."""
    monkeypatch.setenv("KANBAN_HOME", str(home))
    monkeypatch.setenv("KANBAN_DATABASE_URL", db_url)
    for var in ("KANBAN_BOARD", "KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN", "KANBAN_PROFILE"):
        monkeypatch.delenv(var, raising=False)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        finally:
            for k in env or {}:
                monkeypatch.delenv(k, raising=False)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run
    store_engine.close_all()
