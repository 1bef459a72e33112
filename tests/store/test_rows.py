"""Rows -> domain records."""

from __future__ import annotations

from agentkanban.domain.models import TASK_FIELDS
from agentkanban.services import Actor, tasks
from agentkanban.store import tasks as store_tasks
from agentkanban.store.rows import to_task, to_tasks
from agentkanban.store.schema import tasks as task_table


def test_task_columns_and_fields_line_up() -> None:
    # to_tasks builds tasks by position when a row holds every column in table order.
    assert tuple(c.name for c in task_table.c) == TASK_FIELDS


def test_many_tasks_by_position_equal_one_by_name(ctx) -> None:
    ids = [tasks.create(ctx, "default", title=f"t{i}", actor=Actor("u"), skills=["py"],
                        triage=i == 1).task.id for i in range(3)]
    with ctx.store.read() as conn:
        many = store_tasks.get_many(conn, "default", ids)
        rows = conn.execute(store_tasks._MANY_ON_BOARD, {"b_ids": ids, "b_board": "default"}).all()
        assert to_tasks(rows) == [to_task(r) for r in rows]
    assert [many[i] for i in ids] == [tasks.get(ctx, "default", i) for i in ids]
    assert many[ids[0]].skills == ("py",)
