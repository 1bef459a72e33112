"""vibe-kanban's SQLite database (``db.sqlite``): projects become boards, tasks keep their title,
description and status, a task started from another task's attempt waits for that task, and each
coding-agent process of a task's attempts becomes a closed run.

Read against vibe-kanban's published migrations (``crates/db/migrations``): ``projects(id BLOB,
name)``, ``tasks(id BLOB, project_id, title, description, status CHECK IN ('todo','inprogress',
'inreview','done','cancelled'), parent_workspace_id, created_at, updated_at)`` (before
2025-12-16: ``parent_task_attempt`` and ``task_attempts``); ``workspaces(id, task_id)``,
``sessions(id, workspace_id, executor)``, ``execution_processes(session_id, run_reason, status,
exit_code, started_at, completed_at)``. Times are UTC text from SQLite's ``datetime('now',
'subsec')`` or RFC 3339 written by the app.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...domain.statuses import Status
from ...errors import ValidationError
from .common import Item, Project

STATUS = {"todo": Status.TRIAGE, "inprogress": Status.BLOCKED, "inreview": Status.BLOCKED,
          "done": Status.DONE, "cancelled": Status.ARCHIVED}
NOTE = {"inprogress": "It was in progress in vibe-kanban when imported; no worker runs it here.",
        "inreview": "It was waiting for review in vibe-kanban when imported."}
OUTCOME = {"completed": "completed", "failed": "crashed", "killed": "reclaimed"}
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def _id(value: Any) -> str:
    return str(uuid.UUID(bytes=value)) if isinstance(value, bytes) and len(value) == 16 else str(value)


def _ts(value: Any) -> float:
    m = _TIME.match(str(value or "").strip())
    if not m:
        raise ValidationError(f"vibe-kanban: unreadable time {value!r}")
    frac = (m.group(3) or ".0")[:7]  # the app writes nanoseconds; Python reads microseconds
    zone = m.group(4) or "+00:00"
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{frac}{zone}").astimezone(UTC).timestamp()


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def read(path: Path) -> list[Project]:
    path = path.expanduser()
    if not path.is_file():
        raise ValidationError(f"{path}: no such file; give vibe-kanban's db.sqlite")
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise ValidationError(f"{path}: not a SQLite database; give vibe-kanban's db.sqlite")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        task_cols = _columns(conn, "tasks")
        if not {"id", "project_id", "title", "status"} <= task_cols or "name" not in _columns(conn, "projects"):
            raise ValidationError(f"{path}: a SQLite database, but not vibe-kanban's (no projects "
                                  "table, or no tasks table with project_id, title and status)")
        return _projects(conn, task_cols)
    finally:
        conn.close()


def _projects(conn: sqlite3.Connection, task_cols: set[str]) -> list[Project]:
    attempts_table = "workspaces" if "task_id" in _columns(conn, "workspaces") else "task_attempts"
    parent_col = "parent_workspace_id" if "parent_workspace_id" in task_cols else (
        "parent_task_attempt" if "parent_task_attempt" in task_cols else None)
    owner = {_id(w): _id(t) for w, t in conn.execute(f"SELECT id, task_id FROM {attempts_table}")} \
        if _columns(conn, attempts_table) else {}
    runs = _attempts(conn, attempts_table)
    out = []
    for pid, name in conn.execute("SELECT id, name FROM projects ORDER BY created_at, id"):
        items = []
        q = (f"SELECT id, title, description, status, created_at, updated_at, "
             f"{parent_col or 'NULL'} FROM tasks WHERE project_id = ? ORDER BY created_at, id")
        for tid, title, desc, status, created, updated, parent in conn.execute(q, (pid,)):
            if status not in STATUS:
                raise ValidationError(f"vibe-kanban task {_id(tid)}: unknown status {status!r}")
            body = "\n\n".join(x for x in (desc, NOTE.get(status)) if x) or None
            parent_task = owner.get(_id(parent)) if parent is not None else None
            items.append(Item(key=_id(tid), title=title or "(untitled)", status=STATUS[status],
                              created_at=_ts(created), updated_at=_ts(updated), body=body,
                              depends_on=[parent_task] if parent_task else [],
                              attempts=runs.get(_id(tid), [])))
        out.append(Project(name=name, items=items))
    return out


def _attempts(conn: sqlite3.Connection, attempts_table: str) -> dict[str, list[dict[str, Any]]]:
    """task id -> closed coding-agent runs, oldest first."""
    ep = _columns(conn, "execution_processes")
    if not ep:
        return {}
    if "session_id" in ep and _columns(conn, "sessions"):
        q = ("SELECT w.task_id, s.executor, e.status, e.exit_code, e.started_at, e.completed_at "
             "FROM execution_processes e JOIN sessions s ON s.id = e.session_id "
             f"JOIN {attempts_table} w ON w.id = s.workspace_id ")
    else:
        q = ("SELECT w.task_id, w.executor, e.status, e.exit_code, e.started_at, e.completed_at "
             f"FROM execution_processes e JOIN {attempts_table} w ON w.id = e.task_attempt_id ")
    reason = "run_reason" if "run_reason" in ep else "process_type"
    q += f"WHERE e.{reason} = 'codingagent' AND e.completed_at IS NOT NULL ORDER BY e.started_at"
    out: dict[str, list[dict[str, Any]]] = {}
    for task_id, executor, status, code, started, ended in conn.execute(q):
        outcome = OUTCOME.get(status)
        if outcome is None or task_id is None:
            continue
        out.setdefault(_id(task_id), []).append({
            "profile": (executor or "").lower().replace("_", "-") or None, "outcome": outcome,
            "started_at": _ts(started), "ended_at": _ts(ended),
            "error": None if outcome == "completed" else f"vibe-kanban process {status} (exit {code})"})
    return out
