"""Three dispatchers on one PostgreSQL database, whose writers run side by side: every task runs
exactly once and no cap is ever exceeded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentkanban.dispatch.logs import log_path
from agentkanban.services import dispatching, tasks
from agentkanban.services import runs as runs_svc

from .conftest import wait_for
from .test_resilience import _all_done, _lines
from .test_stories import max_overlap

TASKS = 300
RECORD = str(Path(__file__).parent / "workers" / "record.sh")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_three_daemons_run_each_task_once_within_caps(khome, daemon, user):
    record = khome.path / "record.txt"
    caps = {"p": 5, "q": 3}
    board_cap = 7
    khome.configure({n: {"command": [RECORD, str(record)], "max_concurrency": c,
                         "env": {"KANBAN_PY": sys.executable}}
                     for n, c in caps.items()}, max_in_progress=board_cap)
    ctx = khome.ctx
    ids = [tasks.create(ctx, "default", title=f"job {i}", actor=user, assignee="pq"[i % 2]).task.id
           for i in range(TASKS)]
    for _ in range(3):
        daemon(interval=0.3)
    wait_for(lambda: _all_done(ctx, ids), timeout=900, step=1.0,
             what=f"all {TASKS} tasks to be done by three daemons")
    starts, dones = _lines(record, "start"), _lines(record, "done")
    spans: dict[str, list[tuple[float, float]]] = {"p": [], "q": []}
    every: list[tuple[float, float]] = []
    for tid in ids:
        history = runs_svc.list_runs(ctx, "default", tid)
        assert [r.outcome for r in history] == ["completed"], (
            tid, [(r.outcome, r.error) for r in history], log_path(ctx, "default", tid).read_text()[-3000:])
        assert starts[tid] == 1 and dones[tid] == 1, (tid, starts[tid], dones[tid])
        span = (history[0].started_at, history[0].ended_at)
        spans[history[0].profile].append(span)
        every.append(span)
    for profile, cap in caps.items():
        assert max_overlap(spans[profile]) <= cap, profile
    assert max_overlap(every) <= board_cap
    assert dispatching.open_runs(ctx, "default") == []
