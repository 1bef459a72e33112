"""Rendering for people (Rich tables, imported only when used) and stable JSON shapes."""

from __future__ import annotations

import time
from typing import Any

import click

from ..domain.models import Task, TaskDetail
from ..services.views import task_json


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return "-"
    s = int((now or time.time()) - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{max(s, 0)}s"


def detail_json(d: TaskDetail, now: float) -> dict[str, Any]:
    return {
        "task": task_json(d.task, now),
        "comments": [c.to_dict() for c in d.comments],
        "events": [e.to_dict() for e in d.events],
        "links": {"parents": d.parents, "children": d.children},
        "runs": [r.to_dict() for r in d.runs],
    }


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    Console().print(t)


def task_rows(tasks: list[dict[str, Any]]) -> None:
    """Tasks in the API's shape as a table, with why each is not moving."""
    now = time.time()
    table(None, ["id", "status", "pri", "assignee", "tenant", "title", "age", "why"],
          [[t["id"], t["status"], t["priority"] or "", t["assignee"] or "-", t["tenant"] or "",
            t["title"], ago(t["created_at"], now), (t.get("why") or {}).get("text", "")]
           for t in tasks])
    click.echo(f"{len(tasks)} task(s)")


def task_line(t: Task) -> str:
    who = f" @{t.assignee}" if t.assignee else ""
    return f"{t.id} [{t.status.value}]{who} {t.title}"
