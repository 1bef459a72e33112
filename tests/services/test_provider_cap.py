"""A provider's max_concurrency is counted inside the claim itself, so dispatchers that each
decided at the start of their pass cannot together exceed it."""

from __future__ import annotations

from agentkanban.services import dispatching, tasks

from .helpers import BOARD

PROVIDER = ("anthropic", ["coder", "reviewer"], 1)


def test_the_claim_refuses_a_second_attempt_of_the_provider(ctx, user) -> None:
    a = tasks.create(ctx, BOARD, title="a", actor=user, assignee="coder").task
    b = tasks.create(ctx, BOARD, title="b", actor=user, assignee="reviewer").task
    first = dispatching.claim_capped(ctx, BOARD, a.id, profile="coder", lock="d1", ttl=60,
                                     profile_cap=5, provider=PROVIDER)
    assert first is not None
    # Another dispatcher saw the provider idle when its pass began; its claim still says no.
    assert dispatching.claim_capped(ctx, BOARD, b.id, profile="reviewer", lock="d2", ttl=60,
                                    profile_cap=5, provider=PROVIDER) is None
    assert tasks.get(ctx, BOARD, b.id).status.value == "ready"
    # Without the provider the profile's own cap would have allowed it.
    assert dispatching.claim_capped(ctx, BOARD, b.id, profile="reviewer", lock="d2", ttl=60,
                                    profile_cap=5) is not None
