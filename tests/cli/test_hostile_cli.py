"""The CLI refuses what the API refuses, with exit 2 and the same words, and stores nothing."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args,needle", [
    (["--priority", "99999999999999999999"], "priority must be between"),
    (["--max-runtime", "99999999999999d"], "too long"),
    (["--max-runtime", "0"], "positive"),
    (["--max-retries", "0"], "max retries"),
])
def test_out_of_range_numbers_exit_2(kanban, args, needle):
    r = kanban("create", "x", *args)
    assert r.code == 2, r.err
    assert needle in r.err and "Traceback" not in r.err
    assert kanban("list", "--json").json()["tasks"] == []


def test_undecodable_arguments_exit_2_and_list_still_works(kanban):
    r = kanban("create", "caf\udce9")  # b"caf\xe9" from a Latin-1 terminal
    assert r.code == 2 and "not valid UTF-8" in r.err, r.err
    r = kanban("create", "ok", "--skill", "\ud800")
    assert r.code == 2 and "invalid text" in r.err
    listed = kanban("list", "--json")
    assert listed.code == 0 and listed.json()["tasks"] == []
