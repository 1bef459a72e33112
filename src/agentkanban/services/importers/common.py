"""What every importer produces, and the one transaction that loads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ...domain import events as ev
from ...domain.statuses import Status
from ...errors import ValidationError
from ...ids import new_task_id
from ...store import events as store_events
from ...store import links as store_links
from ...store import transfer
from ..base import Ctx
from ..boards import normalize_slug
from ..integrity import find_cycle


@dataclass
class Item:
    key: str  # the source's own id, stable across re-runs
    title: str
    status: Status
    created_at: float
    updated_at: float
    body: str | None = None
    assignee: str | None = None
    priority: int = 0
    depends_on: list[str] = field(default_factory=list)  # keys of tasks this one waits for
    attempts: list[dict[str, Any]] = field(default_factory=list)  # closed runs: profile, outcome, ...


@dataclass
class Project:
    name: str
    items: list[Item]


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")[:64]
    return slug or "imported"


def write(ctx: Ctx, source: str, projects: list[Project], *, board: str | None = None) -> dict[str, Any]:
    if board and len(projects) > 1:
        raise ValidationError(f"--board: the source holds {len(projects)} projects "
                              f"({', '.join(p.name for p in projects)}); import without --board")
    now = ctx.now()
    added, skipped, made = 0, 0, []
    with ctx.store.write() as tx:
        for project in projects:
            slug = normalize_slug(board) if board else slugify(project.name)
            if slug not in transfer.board_slugs(tx.conn):
                transfer.insert_many(tx.conn, "board", [{"slug": slug, "name": project.name, "description":
                                                         f"Imported from {source}", "icon": "",
                                                         "color": "", "created_at": now}])
            made.append(slug)
            prefix = f"{source}:"
            ids = transfer.keys_with_prefix(tx.conn, slug, prefix)
            new = [i for i in project.items if prefix + i.key not in ids]
            skipped += len(project.items) - len(new)
            for item in new:
                ids[prefix + item.key] = _insert(tx, slug, source, item, now)
            edges = []
            for item in project.items:
                for dep in item.depends_on:
                    if prefix + dep in ids:  # a dependency outside the import is left out
                        edges.append((ids[prefix + dep], ids[prefix + item.key]))
            cycle = find_cycle(edges)
            if cycle:
                raise ValidationError(f"dependencies form a cycle ({' -> '.join(cycle)}); nothing imported")
            for parent, child in edges:
                store_links.add(tx.conn, parent, child)
            added += len(new)
    return {"source": source, "boards": made, "added": added, "already_imported": skipped}


def _insert(tx: Any, board: str, source: str, item: Item, now: float) -> str:
    task_id = new_task_id()
    while transfer.existing_ids(tx.conn, [task_id]):
        task_id = new_task_id()
    done = item.status in (Status.DONE, Status.ARCHIVED)
    failures = [a for a in item.attempts if a.get("outcome") not in ("completed", None)]
    transfer.insert_many(tx.conn, "task", [{
        "id": task_id, "board": board, "title": item.title[:500], "body": item.body,
        "assignee": item.assignee, "status": item.status.value, "priority": item.priority,
        "created_by": source, "created_at": item.created_at, "updated_at": item.updated_at,
        "completed_at": item.updated_at if done else None, "workspace_kind": "scratch",
        "idempotency_key": f"{source}:{item.key}", "consecutive_failures": 0,
        "last_failure_error": failures[-1].get("error") if failures else None}])
    for a in item.attempts:
        transfer.insert_returning_id(tx.conn, "run", {
            "task_id": task_id, "board": board, "profile": a.get("profile"), "status": a["outcome"],
            "outcome": a["outcome"], "started_at": a["started_at"], "ended_at": a["ended_at"],
            "error": a.get("error"), "summary": a.get("summary")})
    store_events.append(tx, board=board, task_id=task_id, kind=ev.CREATED, now=now,
                        payload={"status": item.status.value, "imported_from": source, "key": item.key})
    return task_id
