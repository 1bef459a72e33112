"""Comment rows."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from ..domain.models import Comment
from .rows import to_comment
from .schema import comments


def add(conn: Connection, task_id: str, author: str, body: str, now: float) -> Comment:
    cid = conn.execute(
        insert(comments).values(task_id=task_id, author=author, body=body, created_at=now)
        .returning(comments.c.id)
    ).scalar_one()
    return Comment(id=cid, task_id=task_id, author=author, body=body, created_at=now)


def for_task(conn: Connection, task_id: str, limit: int | None = None) -> list[Comment]:
    q = select(comments).where(comments.c.task_id == task_id).order_by(comments.c.id.desc())
    if limit is not None:
        q = q.limit(limit)
    return [to_comment(r) for r in reversed(conn.execute(q).all())]
