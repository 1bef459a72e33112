"""``kanban runners``: a token printed alone and once, the list, revocation; ``create --runs-on``."""

from __future__ import annotations

import re


def test_token_list_and_revoke(kanban) -> None:
    made = kanban("runners", "token", "create", "gpu-1", "--profile", "coder", "--label", "gpu")
    assert made.code == 0, made.err
    assert re.fullmatch(r"kbr_[A-Za-z0-9_-]{40,}\n", made.out)  # `... > gpu-1.token` keeps it alone
    assert "shown once" in made.err
    again = kanban("runners", "token", "create", "gpu-1")
    assert again.code == 1 and "revoke it first" in again.err
    bad = kanban("runners", "token", "create", "../x")
    assert bad.code == 2 and "runner name" in bad.err
    listed = kanban("runners", "list", "--json").json()["runners"]
    assert [(r["name"], r["allowed_profiles"], r["allowed_labels"], r["online"]) for r in listed] == [
        ("gpu-1", ["coder"], ["gpu"], False)]
    assert made.out.strip() not in kanban("runners", "list").out
    revoked = kanban("runners", "revoke", "gpu-1", "--json")
    assert revoked.code == 0 and revoked.json()["runner"]["revoked"]
    assert kanban("runners", "revoke", "gpu-1").code == 1


def test_a_task_that_needs_runner_labels_says_so(kanban) -> None:
    tid = kanban("create", "build the app", "--assignee", "ios", "--runs-on", "macOS",
                 "--runs-on", "xcode", "--json").json()["task"]["id"]
    shown = kanban("show", tid, "--json").json()
    assert shown["runs_on"] == ["macos", "xcode"]
    assert shown["task"]["why"]["kind"] == "no_runner"
    assert "Runs on: a runner with macos, xcode" in kanban("show", tid).out
    assert kanban("create", "x", "--runs-on", "no way").code == 2
