"""Nothing stored is lost: a full disk rolls back whole; kill -9 mid-write loses no commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from agentkanban.config import load_settings
from agentkanban.errors import StorageError
from agentkanban.services import Actor, open_ctx, tasks
from agentkanban.store import engine as store_engine

WRITER = """
import sys
from agentkanban.config import load_settings
from agentkanban.services import Actor, open_ctx, tasks
ctx = open_ctx(load_settings({"KANBAN_HOME": sys.argv[1]}))
i = 0
while True:
    t = tasks.create(ctx, "default", title=f"t{i}", actor=Actor("w"), body="x" * 2000).task
    print(t.id, flush=True)  # printed only after the commit returned
    i += 1
"""


def test_full_disk_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home)}))
    user = Actor("user")
    kept = tasks.create(ctx, "default", title="kept", actor=user).task
    store_engine.close_all()
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home)}))
    with ctx.store.read() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(ctx.store.engine, "connect")
    def _cap(dbapi_conn, _record):  # the disk is "full" a few pages from now
        dbapi_conn.execute(f"PRAGMA max_page_count={pages + 2}")

    ctx.store.engine.dispose()
    with pytest.raises(StorageError, match="disk is full"):
        for i in range(200):
            tasks.create(ctx, "default", title=f"big {i}", actor=user, body="x" * 50_000)
    event.remove(ctx.store.engine, "connect", _cap)
    ctx.store.engine.dispose()
    titles = [t.title for t in tasks.list_tasks(ctx, "default")]
    assert titles[0] == "kept" and tasks.get(ctx, "default", kept.id).title == "kept"
    created = [t for t in tasks.list_tasks(ctx, "default") if t.title.startswith("big")]
    for t in created:  # every task that exists is whole, with its event
        assert tasks.show(ctx, "default", t.id).events[0].kind == "created"
    tasks.create(ctx, "default", title="after", actor=user)  # space again: writes work
    store_engine.close_all()


@pytest.mark.slow
def test_kill_9_mid_write_loses_no_commit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(home)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    committed = []
    deadline = time.monotonic() + 60
    while len(committed) < 300 and time.monotonic() < deadline:
        committed.append(proc.stdout.readline().strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    committed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    proc.stdout.close()
    ctx = open_ctx(load_settings({"KANBAN_HOME": str(home)}))
    with ctx.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    stored = {t.id for t in tasks.list_tasks(ctx, "default")}
    assert len(committed) >= 300 and set(committed) <= stored
    store_engine.close_all()
