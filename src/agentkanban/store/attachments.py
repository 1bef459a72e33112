"""Attachment rows (the bytes live in the attachment store on disk, see services.attachments)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ..domain.models import Attachment
from .schema import attachments as a


def _to(r: Any) -> Attachment:
    m = r._mapping
    return Attachment(id=m["id"], task_id=m["task_id"], board=m["board"], filename=m["filename"],
                      stored_name=m["stored_name"], size=m["size"], content_type=m["content_type"],
                      sha256=m["sha256"], uploaded_by=m["uploaded_by"], created_at=m["created_at"])


def insert_row(conn: Connection, values: dict[str, Any]) -> Attachment:
    row = conn.execute(insert(a).values(**values).returning(*a.c)).one()
    return _to(row)


def get(conn: Connection, attachment_id: int) -> Attachment | None:
    row = conn.execute(select(a).where(a.c.id == attachment_id)).first()
    return _to(row) if row else None


def for_task(conn: Connection, task_id: str) -> list[Attachment]:
    return [_to(r) for r in conn.execute(select(a).where(a.c.task_id == task_id).order_by(a.c.id))]


def for_tasks(conn: Connection, task_ids: list[str]) -> list[Attachment]:
    if not task_ids:
        return []
    return [_to(r) for r in conn.execute(select(a).where(a.c.task_id.in_(task_ids)))]


def delete_row(conn: Connection, attachment_id: int) -> None:
    conn.execute(delete(a).where(a.c.id == attachment_id))
