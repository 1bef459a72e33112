"""In remote mode a worker's `kanban` opens no database, so it does not even load the database
layer: a worker calls `kanban` many times per attempt, and each start costs CPU on its host."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkanban.services import Actor, runs, tasks

from ..serving import Server, served

TOKEN = "operator-token-for-the-light-client-suite"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served(tmp_path_factory.mktemp("light-home"), TOKEN) as srv:
        yield srv


def test_worker_verbs_over_http_load_no_database_layer(server: Server, tmp_path: Path) -> None:
    ctx = server.ctx()
    tid = tasks.create(ctx, "default", title="light", actor=Actor("user"), assignee="coder").task.id
    claim = runs.claim(ctx, "default", tid, profile="coder", lock="test", ttl=600)
    assert claim is not None
    env = {"PATH": "/usr/bin:/bin", "KANBAN_HOME": str(tmp_path), "KANBAN_URL": server.url,
           "KANBAN_TASK_ID": tid, "KANBAN_RUN_ID": str(claim.run_id), "KANBAN_RUN_TOKEN": claim.token}
    for verb in (["show"], ["context"], ["heartbeat", "--note", "n"], ["comment", tid, "hi"],
                 ["create", "next", "--parent", tid], ["block", "--reason", "r"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "agentkanban", *verb],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, (verb, done.stderr[-2000:])
        loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                  if line.startswith("import time:")}
        assert "agentkanban.cli.remote" in loaded, verb  # it did take the remote path
        assert not {"sqlalchemy", "agentkanban.store", "agentkanban.services"} & loaded, verb
    assert tasks.get(ctx, "default", tid).status.value == "blocked"
