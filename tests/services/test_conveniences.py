"""What a worker gets from any surface (CLI, API, MCP): inherited follow-ups, checked handoffs."""

from __future__ import annotations

import pytest

from agentkanban.domain.statuses import Status
from agentkanban.errors import UnknownCards
from agentkanban.services import Actor, changes, events, runs, tasks, transitions

from .helpers import BOARD, claim, worker_actor


def test_a_workers_follow_up_inherits_tenant_and_workspace(ctx, user, tmp_path) -> None:
    own = tasks.create(ctx, BOARD, title="fix", actor=user, assignee="coder", tenant="acme",
                       workspace=f"dir:{tmp_path}").task
    me = worker_actor(claim(ctx, own.id))
    follow = tasks.create(ctx, BOARD, title="test it", actor=me, parents=[own.id]).task
    assert (follow.tenant, follow.workspace_kind, follow.workspace_path) == ("acme", "dir", str(tmp_path))
    said = tasks.create(ctx, BOARD, title="elsewhere", actor=me, tenant="", workspace="scratch",
                        parents=[own.id]).task
    assert (said.tenant, said.workspace_kind, said.workspace_path) == (None, "scratch", None)
    person = tasks.create(ctx, BOARD, title="by a person", actor=user).task
    assert (person.tenant, person.workspace_kind) == (None, "scratch")


def test_a_scratch_workspace_is_never_shared(ctx, user) -> None:
    own = tasks.create(ctx, BOARD, title="fix", actor=user, assignee="coder", tenant="t1").task
    follow = tasks.create(ctx, BOARD, title="next", actor=worker_actor(claim(ctx, own.id)),
                          parents=[own.id]).task
    assert (follow.tenant, follow.workspace_kind, follow.workspace_path) == ("t1", "scratch", None)


def test_complete_records_created_cards_and_artifacts(ctx, user) -> None:
    own = tasks.create(ctx, BOARD, title="fix", actor=user, assignee="coder").task
    c = claim(ctx, own.id)
    me = worker_actor(c)
    made = tasks.create(ctx, BOARD, title="follow-up", actor=me, parents=[own.id]).task
    done = transitions.complete(ctx, BOARD, own.id, actor=me, summary="fixed",
                                metadata={"artifacts": ["a.txt"]}, created_cards=[made.id[:6]],
                                artifacts=["b.txt", "a.txt"])
    assert done.status is Status.DONE
    [run] = runs.list_runs(ctx, BOARD, own.id)
    assert run.metadata == {"artifacts": ["a.txt", "b.txt"], "created_cards": [made.id]}


@pytest.mark.parametrize("surface", ["service", "patch"])
def test_unknown_created_cards_change_nothing(ctx, user, surface: str) -> None:
    own = tasks.create(ctx, BOARD, title="fix", actor=user, assignee="coder").task
    before = events.latest_id(ctx)
    with pytest.raises(UnknownCards) as err:
        if surface == "service":
            transitions.complete(ctx, BOARD, own.id, actor=user, summary="s",
                                 created_cards=["t_00000000", "zzz"])
        else:
            changes.update(ctx, BOARD, own.id, changes.Update(
                status="done", summary="s", created_cards=["t_00000000", "zzz"]), actor=Actor("api"))
    assert err.value.missing == ["t_00000000", "zzz"]
    assert tasks.get(ctx, BOARD, own.id) == own
    assert events.latest_id(ctx) == before
