"""Alembic: one head, and ``upgrade head`` on an empty database equals the Core metadata."""

from __future__ import annotations

import multiprocessing as mp
import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from agentkanban.store import engine as store_engine
from agentkanban.store import migrate
from agentkanban.store.schema import PARTIAL_INDEXES, metadata


def _fresh_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    pg = request.getfixturevalue("pg_databases")
    if pg is None:
        request.getfixturevalue("pg_url")  # fails (CI) or skips with the reason
    return str(pg.new_url(migrated=False))


def test_single_head_matches_the_code_constant(tmp_path: Path) -> None:
    store = store_engine.open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert migrate.alembic_heads(store) == [migrate.HEAD]
    store_engine.close_all()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrade_head_matches_metadata(request, backend: str, tmp_path: Path) -> None:
    url = _fresh_url(request, backend, tmp_path)
    store = store_engine.open_store(url)
    assert migrate.current_revision(store) is None
    migrate.upgrade(store)
    assert migrate.current_revision(store) == migrate.HEAD
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("tasks")}
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= tables
    # Alembic does not compare a partial index's WHERE: check it here, in the database and in the
    # metadata (which gets it when a store for the backend is opened).
    name = store.engine.dialect.name
    for index, where in PARTIAL_INDEXES.items():
        assert indexes[index.name]["unique"]
        reflected = re.sub(r"[()\s]|::text", "", str(indexes[index.name]["dialect_options"][f"{name}_where"]))
        assert reflected.replace("<>", "!=") == re.sub(r"[()\s]", "", where)
        assert str(index.dialect_kwargs[f"{name}_where"]) == where
    migrate.upgrade(store)  # idempotent
    store_engine.close_all()


def _open(url: str, q: mp.Queue[str]) -> None:
    try:
        migrate.ensure_current(store_engine.open_store(url))
        q.put("ok")
    except Exception as err:  # reported to the parent
        q.put(repr(err))


def test_racing_first_opens_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    q: mp.Queue[str] = mp.get_context("spawn").Queue()
    procs = [mp.get_context("spawn").Process(target=_open, args=(url, q)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [q.get(timeout=5) for _ in procs] == ["ok"] * 4
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM boards").scalar() == 1
    engine.dispose()


def test_an_up_to_date_sqlite_store_never_loads_the_postgresql_dialect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    migrate.ensure_current(store_engine.open_store(url))  # the migration names both dialects
    store_engine.close_all()
    code = ("import sys; from agentkanban.store import engine, migrate; "
            f"migrate.ensure_current(engine.open_store({url!r})); "
            "print(sorted(m for m in sys.modules if 'postgresql' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_opening_never_migrates_and_db_current_says_so(request, backend: str, tmp_path: Path,
                                                       monkeypatch, capsys) -> None:
    from agentkanban.cli import main
    from agentkanban.config import load_settings
    from agentkanban.services import open_ctx

    url = _fresh_url(request, backend, tmp_path)
    monkeypatch.setenv("KANBAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KANBAN_DATABASE_URL", url)

    def kanban(*args: str) -> str:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as e:
            assert not e.code
        return capsys.readouterr().out.strip()

    store = store_engine.open_store(url)
    assert migrate.current_revision(store) is None  # opening created nothing
    assert kanban("db", "current").startswith("(empty)")
    assert migrate.current_revision(store) is None  # and neither did asking
    with store.engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    open_ctx(load_settings(), upgrade=False)  # a context that does not upgrade leaves it alone
    assert migrate.current_revision(store) is None
    kanban("list")  # the CLI upgrades where it always did
    assert migrate.current_revision(store) == migrate.HEAD
    assert kanban("db", "current") == migrate.HEAD
    store_engine.close_all()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrading_a_filled_board_counts_what_it_holds(request, backend: str, tmp_path: Path) -> None:
    """``0006_tallies`` on a database that already has tasks: the counts start equal to the rows
    and the triggers keep them from there."""
    from sqlalchemy import insert, text

    from agentkanban.store import tallies
    from agentkanban.store.schema import boards, tasks

    url = _fresh_url(request, backend, tmp_path)
    store = store_engine.open_store(url)
    migrate.upgrade(store, "0005_progress")
    rows = [{"id": f"t_{i:08x}", "board": "default" if i % 4 else "side", "title": "old",
             "status": ("todo", "done", "archived")[i % 3], "priority": 0, "created_by": "x",
             "created_at": 1.0, "updated_at": 1.0, "workspace_kind": "scratch",
             "consecutive_failures": 0, "labels": '["bug", "ui"]' if i % 2 else None} for i in range(24)]
    with store.write() as tx:
        tx.conn.execute(insert(boards), [{"slug": "side", "name": "side", "created_at": 1.0}])
        tx.conn.execute(insert(tasks), rows)
    migrate.upgrade(store)
    with store.read() as conn:
        kept, counted = tallies.every_board(conn), tallies.recount(conn)
    assert kept == counted and kept["side"][0] == {"todo": 2, "done": 2, "archived": 2}
    assert kept["default"][1] == {"bug": 8, "ui": 8}  # odd ids on the board, archived ones left out
    with store.write() as tx:
        tx.conn.execute(text("UPDATE tasks SET status = 'archived' WHERE board = 'default'"))
    with store.read() as conn:
        assert tallies.every_board(conn) == tallies.recount(conn)
        assert tallies.labels(conn, "default") == {}
    store_engine.close_all()
