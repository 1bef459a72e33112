"""The database file is private to its owner, and an existing loose one is tightened on open."""

from __future__ import annotations

import stat
from pathlib import Path

from agentkanban.store import engine


def test_database_files_are_private(tmp_path: Path) -> None:
    new = tmp_path / "home" / "kanban.db"
    engine.open_store(f"sqlite:///{new}")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert stat.S_IMODE(new.parent.stat().st_mode) == 0o700
    loose = tmp_path / "old.db"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    (tmp_path / "old.db-wal").write_bytes(b"")
    (tmp_path / "old.db-wal").chmod(0o664)
    try:
        engine.open_store(f"sqlite:///{loose}")
        assert stat.S_IMODE(loose.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "old.db-wal").stat().st_mode) == 0o600
    finally:
        engine.close_all()
