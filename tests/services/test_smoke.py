from agentkanban.domain.statuses import Status
from agentkanban.services import tasks, transitions


def test_create_and_complete_promotes_child(ctx, user):
    parent = tasks.create(ctx, "default", title="parent", actor=user).task
    child = tasks.create(ctx, "default", title="child", actor=user, parents=[parent.id]).task
    assert (parent.status, child.status) == (Status.READY, Status.TODO)
    transitions.complete(ctx, "default", parent.id, actor=user, summary="ok")
    assert tasks.get(ctx, "default", child.id).status is Status.READY
