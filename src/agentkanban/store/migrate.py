"""Alembic, run from code: on first use of a database and by ``kanban db upgrade``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from .engine import Store

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The newest revision. Checked against Alembic's own head by a test, so that opening an
# up-to-date database costs one SELECT and never imports Alembic.
HEAD = "0007_runners"


def current_revision(store: Store) -> str | None:
    with store.read() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_current(store: Store) -> None:
    """Upgrade the schema to the newest revision unless this process already saw it there."""
    if store.schema_current:
        return
    if current_revision(store) != HEAD:
        upgrade(store)
    store.schema_current = True


def _config(store: Store):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Upgrade in one write transaction, so two processes racing here apply it once."""
    from alembic import command

    cfg = _config(store)
    with store.write() as tx:
        cfg.attributes["connection"] = tx.conn
        command.upgrade(cfg, revision)


def alembic_heads(store: Store) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(_config(store)).get_heads())
