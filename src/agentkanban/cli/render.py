"""Rendering for people (Rich tables, imported only when used) and stable JSON shapes."""

from __future__ import annotations

import time
from typing import Any

import click

from ..domain.models import Task


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return "-"
    s = int((now or time.time()) - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{max(s, 0)}s"


def clock(ts: float) -> str:
    """Local time of day, with the date when it is not today."""
    from datetime import datetime

    when = datetime.fromtimestamp(ts)
    return when.strftime("%H:%M:%S" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M:%S")


def show_lines(doc: dict[str, Any], now: float) -> list[str]:
    """``kanban show`` for people, from the ``show --json`` document (``services/verbs.py``)."""
    from ..domain.due import describe, is_overdue

    task = doc["task"]
    lines = [doc["context"]]
    if task.get("labels") or task.get("due_at") is not None:
        late = " (overdue)" if is_overdue(task, now) else ""
        lines.append(f"Labels: {', '.join(task.get('labels') or []) or '-'}   "
                     f"Due: {describe(task.get('due_at')) or '-'}{late}")
    if task.get("why"):
        lines.append(f"Not moving: {task['why']['text']}")
    if doc.get("runs_on"):
        lines.append(f"Runs on: a runner with {', '.join(doc['runs_on'])}")
    retry = doc.get("retry")
    if retry:
        at = retry["next_attempt_at"]
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
        lines.append(f"Next attempt: not before {when} (in {int(at - now) + 1}s; backing off "
                     f"after {retry['failure_class']}, {retry['failures']} failure(s) counted)")
    if doc["links"]["children"]:
        lines.append("Children: " + ", ".join(doc["links"]["children"]))
    if doc["events"]:
        lines.append("\n## Recent events")
        lines += [f"- #{e['id']} {clock(e['created_at'])} {event_text(e['kind'], e.get('payload'))}"
                  for e in doc["events"][-10:]]
    return lines


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
    names = ["id", "status", "pri", "assignee", "tenant", "title", "age", "labels", "due", "why"]
    rows = [[t["id"], t["status"], t["priority"] or "", t["assignee"] or "-", t["tenant"] or "",
             t["title"], ago(t["created_at"], now), ", ".join(t.get("labels") or []),
             _due(t, now), (t.get("why") or {}).get("text", "")]
            for t in tasks]
    # Priority, tenant, labels and due date only when some task has one: their room goes to
    # the reason.
    optional = ("pri", "tenant", "labels", "due")
    keep = [i for i, n in enumerate(names) if n not in optional or any(r[i] for r in rows)]
    table(None, [names[i] for i in keep], [[r[i] for i in keep] for r in rows], layout)
    click.echo(f"{len(tasks)} task(s)")


def _due(task: dict[str, Any], now: float) -> str:
    if task.get("due_at") is None:
        return ""
    from ..domain.due import describe, is_overdue

    return describe(task["due_at"]) + (" (overdue)" if is_overdue(task, now) else "")


def task_line(t: Task | dict[str, Any]) -> str:
    """``t_1a2b3c4d [ready] @coder Title``, from a task or its JSON shape."""
    if isinstance(t, dict):
        who = f" @{t['assignee']}" if t.get("assignee") else ""
        return f"{t['id']} [{t['status']}]{who} {t['title']}"
    who = f" @{t.assignee}" if t.assignee else ""
    return f"{t.id} [{t.status.value}]{who} {t.title}"


def plain(value: Any) -> str:
    """A JSON value as text for people: ``a.py, b.py`` for a list, ``passed 3, failed 0`` for a
    mapping, ``yes``/``no`` for booleans; never a Python or JSON literal."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return pairs(value) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "-"
    return " ".join(str(value).split())


def pairs(mapping: dict[str, Any] | None, sep: str = ", ") -> str:
    """``status ready, assignee coder`` for ``{"status": "ready", "assignee": "coder"}``; empty
    values are left out. Nested mappings are bracketed so that their pairs stay apart."""
    out = []
    for key, value in (mapping or {}).items():
        if value is None or value == [] or value == {} or value == "":
            continue
        text = f"({plain(value)})" if isinstance(value, dict) else plain(value)
        out.append(f"{str(key).replace('_', ' ')} {text}")
    return sep.join(out)


def counts(by_status: dict[str, int] | None) -> str:
    """``2 ready, 1 running`` for ``{"running": 1, "ready": 2}``: in the board's column order."""
    from ..domain.statuses import Status

    order = {s.value: i for i, s in enumerate(Status)}
    items = sorted((by_status or {}).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return ", ".join(f"{n} {status}" for status, n in items if n) or "none"


# What an event's payload says, for the kinds where a phrase reads better than its fields.
_PHRASES: dict[str, Any] = {
    "commented": lambda p: f"by {p.get('author') or '?'} ({p.get('len', 0)} characters)",
    "assigned": lambda p: f"to {p['assignee']}" if p.get("assignee") else "unassigned",
    "reprioritized": lambda p: f"to {p.get('priority')}",
    "blocked": lambda p: " ".join(x for x in (f"by {p['by']}" if p.get("by") else "",
                                              f"- {plain(p['reason'])}" if p.get("reason") else "") if x),
    "completed": lambda p: plain(p["summary"]) if p.get("summary") else pairs(
        {k: v for k, v in p.items() if k != "result_len" or v}),
    "status": lambda p: f"now {p['status']}" + (f" ({plain(p['reason']).replace('_', ' ')})"
                                                 if p.get("reason") else ""),
    "unblocked": lambda p: f"now {p['status']}" + (f", by {p['by']}" if p.get("by") else ""),
    "heartbeat": lambda p: plain(p.get("note")) if set(p) <= {"note"} and p.get("note") else pairs(p),
}


def event_text(kind: str, payload: dict[str, Any] | None) -> str:
    """One event as a line of text: ``blocked by user - need a human``."""
    p = payload or {}
    phrase = _PHRASES.get(kind)
    try:
        detail = phrase(p) if phrase else pairs(p)
    except (KeyError, TypeError, AttributeError):
        detail = pairs(p) if isinstance(p, dict) else plain(p)
    return f"{kind.replace('_', ' ')}: {detail}" if detail else kind.replace("_", " ")


def graph_lines(view: dict[str, Any]) -> list[str]:
    """A dependency view (``services.graph``) as text: ancestors above the task, farthest first,
    marked by how many levels up; then the task, and its descendants as an indented tree. A task
    reached again (several parents among the drawn ones) is named, not repeated."""
    nodes = {n["id"]: n for n in view["nodes"]}
    width = max((len(n["status"]) for n in nodes.values()), default=0)

    def line(n: dict[str, Any]) -> str:
        who = f"  @{n['assignee']}" if n["assignee"] else ""
        return f"{n['id']}  {n['status']:<{width}}  {n['title']}{who}"

    up = [n for n in view["nodes"] if n["depth"] < 0]
    out = [f"up {-n['depth']}  {line(n)}" for n in sorted(up, key=lambda n: n["depth"])]
    pad = " " * (len(f"up {-min((n['depth'] for n in up), default=-1)}  ") if up else 0)
    children: dict[str, list[str]] = {}
    for e in view["edges"]:
        if nodes[e["child"]]["depth"] > 0:
            children.setdefault(e["parent"], []).append(e["child"])
    shown: set[str] = set()

    def tree(tid: str, indent: str) -> None:
        shown.add(tid)
        kids = sorted(children.get(tid, []), key=lambda c: (nodes[c]["title"], c))
        for i, kid in enumerate(kids):
            last = i == len(kids) - 1
            branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
            if kid in shown:
                out.append(f"{pad}{indent}{branch}{kid}  (shown above)")
                continue
            out.append(f"{pad}{indent}{branch}{line(nodes[kid])}")
            tree(kid, indent + below)

    out.append(f"{pad}{line(nodes[view['root']])}  <- this task")
    tree(view["root"], "")
    if view["truncated"]:
        out.append("more lies beyond: raise --depth or --limit")
    return out
