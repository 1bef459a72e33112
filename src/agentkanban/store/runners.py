"""Runner rows (one per runner token) and the labels tasks require of their runner."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..domain.models import RUNNER_LOCK_PREFIX, Run, Runner
from .rows import dumps, json_list, to_run
from .schema import runners, runs, task_runs_on, tasks


def _to_runner(r: Any) -> Runner:
    m = r._mapping
    allowed_p, allowed_l = m["allowed_profiles"], m["allowed_labels"]
    return Runner(
        name=m["name"], token_hash=m["token_hash"],
        allowed_profiles=tuple(json.loads(allowed_p)) if allowed_p is not None else None,
        allowed_labels=tuple(json.loads(allowed_l)) if allowed_l is not None else None,
        labels=tuple(json_list(m["labels"])), profiles=tuple(json_list(m["profiles"])),
        capacity=m["capacity"], version=m["version"], host=m["host"], created_at=m["created_at"],
        registered_at=m["registered_at"], last_seen_at=m["last_seen_at"], revoked_at=m["revoked_at"])


def get(conn: Connection, name: str) -> Runner | None:
    row = conn.execute(select(runners).where(runners.c.name == name)).first()
    return _to_runner(row) if row else None


def by_token_hash(conn: Connection, token_hash: str) -> Runner | None:
    row = conn.execute(select(runners).where(runners.c.token_hash == token_hash)).first()
    return _to_runner(row) if row else None


def all_runners(conn: Connection) -> list[Runner]:
    return [_to_runner(r) for r in conn.execute(select(runners).order_by(runners.c.name))]


def put(conn: Connection, *, name: str, token_hash: str, allowed_profiles: list[str] | None,
        allowed_labels: list[str] | None, now: float) -> None:
    """A new token for ``name`` (a revoked runner's row is replaced, its history kept in runs)."""
    conn.execute(delete(runners).where(runners.c.name == name))
    conn.execute(insert(runners).values(
        name=name, token_hash=token_hash, allowed_profiles=dumps(allowed_profiles),
        allowed_labels=dumps(allowed_labels), created_at=now))


def set_fields(conn: Connection, name: str, values: dict[str, Any]) -> None:
    vals = {k: dumps(v) if k in ("labels", "profiles") else v for k, v in values.items()}
    conn.execute(update(runners).where(runners.c.name == name).values(**vals))


def set_runs_on(conn: Connection, task_id: str, labels: list[str]) -> None:
    conn.execute(delete(task_runs_on).where(task_runs_on.c.task_id == task_id))
    if labels:
        conn.execute(insert(task_runs_on).values(task_id=task_id, labels=dumps(labels)))


def runs_on(conn: Connection, task_id: str) -> tuple[str, ...]:
    """The labels ``task_id`` requires of its runner (empty: none)."""
    row = conn.execute(select(task_runs_on.c.labels).where(task_runs_on.c.task_id == task_id)).first()
    return tuple(json_list(row[0])) if row else ()


def runs_on_ready(conn: Connection, board: str) -> dict[str, tuple[str, ...]]:
    """The labels each ready task of ``board`` requires (tasks requiring none are absent; the
    table holds only tasks that require some, so this is cheap on any board)."""
    q = (select(task_runs_on.c.task_id, task_runs_on.c.labels)
         .join(tasks, tasks.c.id == task_runs_on.c.task_id)
         .where(tasks.c.board == board, tasks.c.status == "ready"))
    return {r[0]: tuple(json_list(r[1])) for r in conn.execute(q)}


def open_runs(conn: Connection, name: str | None = None) -> list[tuple[Run, str]]:
    """Open attempts held by runners (by the runner ``name`` only, when given) with their board,
    oldest first."""
    prefix = f"{RUNNER_LOCK_PREFIX}{name}:" if name else RUNNER_LOCK_PREFIX
    q = (select(runs).where(runs.c.ended_at.is_(None), runs.c.claim_lock.like(f"{prefix}%"))
         .order_by(runs.c.id))
    return [(to_run(r), r.board) for r in conn.execute(q)]
