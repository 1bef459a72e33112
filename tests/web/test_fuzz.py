"""Property-based fuzzing of every documented route from the OpenAPI schema: no 500s.

Kept small here (a few examples per route); docs/api.md shows how to run a long fuzz.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from agentkanban.config import load_settings

from .conftest import make_board, make_task

MAX_EXAMPLES = int(os.environ.get("KANBAN_FUZZ_EXAMPLES", "6"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The fuzzer exercises the HTTP layer; the backends have their own suites."""
    return f"sqlite:///{tmp_path / 'kanban.db'}"


@pytest.fixture
def settings(home: Path, db_url: str):
    # The in-process client calls itself "testserver".
    (home / "config.yaml").write_text("serve:\n  allowed_hosts: [testserver]\n")
    return load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})


@pytest.fixture
def api_schema(app, ctx, token):
    make_board(ctx, "proj")
    make_task(ctx, "a task with a parent", parents=[make_task(ctx, "a parent")])
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app,
                                            headers={"authorization": f"Bearer {token}"})
    schema = schema.exclude(path_regex="^/api/auth/")
    # No worker profiles are configured here, so POST /dispatch never starts a process.
    return schema


def test_no_server_errors(api_schema, token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 22  # the board routes and /healthz
    headers = {"authorization": f"Bearer {token}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @fuzz_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                       suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        fuzz()
