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


def table(title: str | None, columns: list[str], rows: list[list[Any]],
          layout: dict[str, dict[str, Any]] | None = None) -> None:
    """Rows as a table; ``layout`` gives rich's column options by column name."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, **{"overflow": "fold", **(layout or {}).get(c, {})})
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    Console().print(t)


def task_rows(tasks: list[dict[str, Any]]) -> None:
    """Tasks in the API's shape as a table, with why each is not moving."""
    now = time.time()
    longest = max((len(t["title"]) for t in tasks), default=5)
    # Ids and statuses never break; the title keeps room to be read; the reason wraps.
    layout = {"id": {"no_wrap": True}, "status": {"no_wrap": True},
              "title": {"min_width": min(longest, 24)}, "why": {"ratio": 1}}
    names = ["id", "status", "pri", "assignee", "tenant", "title", "age", "why"]
    rows = [[t["id"], t["status"], t["priority"] or "", t["assignee"] or "-", t["tenant"] or "",
             t["title"], ago(t["created_at"], now), (t.get("why") or {}).get("text", "")]
            for t in tasks]
    # Priority and tenant only when some task has one: their room goes to the reason.
    keep = [i for i, n in enumerate(names) if n not in ("pri", "tenant") or any(r[i] for r in rows)]
    table(None, [names[i] for i in keep], [[r[i] for i in keep] for r in rows], layout)
    click.echo(f"{len(tasks)} task(s)")


def task_line(t: Task) -> str:
    who = f" @{t.assignee}" if t.assignee else ""
    return f"{t.id} [{t.status.value}]{who} {t.title}"
