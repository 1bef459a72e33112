"""Shared fixtures: a real SQLite file or a real PostgreSQL database per test, a fake clock."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkanban.config import Settings, load_settings
from agentkanban.services import Actor, Ctx, open_ctx
from agentkanban.store import engine as store_engine

from .pg import PgCluster, PgDatabases

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true", pytrace=False)
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    url = os.environ.get("KANBAN_TEST_DATABASE_URL")
    if url:
        yield PgDatabases(url, None)
        return
    cluster = PgCluster()
    try:
        cluster.start()
    except Exception as err:  # reported by the tests that need it
        cluster.stop()
        yield None
        pytest.pg_error = str(err)  # type: ignore[attr-defined]
        return
    try:
        yield PgDatabases(None, cluster)
    finally:
        store_engine.close_all()
        cluster.stop()


@pytest.fixture
def pg_url(pg_databases: PgDatabases | None) -> str:
    if pg_databases is None:
        _missing("PostgreSQL")
    assert pg_databases is not None
    return pg_databases.new_url()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kanban.db'}"
    return str(request.getfixturevalue("pg_url"))


class FakeClock:
    """The only thing tests fake: time. Starts at the real time, moves only when told."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def settings(home: Path, db_url: str) -> Settings:
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock) -> Iterator[Ctx]:
    c = open_ctx(settings, clock=clock)
    yield c
    store_engine.close_all()


@pytest.fixture
def user() -> Actor:
    return Actor("user")
