"""Fixtures of the MCP suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings


@pytest.fixture
def sqlite_settings(home: Path, tmp_path: Path) -> Settings:
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
