"""Export and import: a self-describing, versioned JSONL stream of boards and everything on them.

Line 1 is ``{"kind": "header", "format": "agentkanban", "version": 1}``; then one record per line
(``board``, ``task``, ``link``, ``comment``, ``run``, ``event`` (whose own kind is ``event``),
``subscription``); the last line is
``{"kind": "end", "counts": {...}}``, so a truncated file is told from a complete one. Nothing
machine-local is written: no worker pids, run tokens, leases or absolute workspace paths (a task
that worked in a directory comes back with a scratch workspace), and a running task is exported
as ready with its attempt ended as ``reclaimed``. Integer ids (runs, comments, events) are not
kept: a run is named by its position (``ref``) and events point at that. The stream is
deterministic, so SQLite -> JSONL -> PostgreSQL -> JSONL gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..domain.statuses import Status
from ..errors import ValidationError
from ..ids import new_task_id
from ..store import transfer
from ..store.rows import dumps as db_dumps
from .base import Ctx
from .due import parse_due
from .labels import clean_labels

FORMAT, VERSION = "agentkanban", 1
KINDS = ("board", "task", "link", "comment", "run", "event", "subscription")
BOARD_FIELDS = ("slug", "name", "description", "icon", "color", "created_at", "archived_at")
TASK_FIELDS = ("id", "board", "title", "body", "assignee", "status", "priority", "tenant", "created_by",
               "created_at", "updated_at", "started_at", "completed_at", "workspace_kind",
               "idempotency_key", "consecutive_failures", "last_failure_error", "max_runtime_seconds",
               "max_retries", "last_heartbeat_at", "skills", "result", "labels", "due_at")
RUN_FIELDS = ("task_id", "board", "profile", "status", "max_runtime_seconds", "last_heartbeat_at",
              "started_at", "ended_at", "outcome", "summary", "metadata", "error")
REQUIRED = {"board": ("slug", "name", "created_at"),
            "task": ("id", "board", "title", "status", "created_at", "updated_at"),
            "link": ("parent_id", "child_id"), "comment": ("task_id", "author", "body", "created_at"),
            "run": ("ref", "task_id", "board", "status", "started_at"),
            "event": ("board", "task_id", "event", "created_at"),
            "subscription": ("task_id", "platform", "chat_id", "created_at")}
STATUSES = {s.value for s in Status}


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def export(ctx: Ctx, board: str | None = None) -> Iterator[str]:
    """The stream's lines (no newlines), for ``board`` or every board."""
    counts = dict.fromkeys(KINDS, 0)
    yield line({"kind": "header", "format": FORMAT, "version": VERSION})
    with ctx.store.read() as conn:
        slugs = [board] if board else transfer.board_slugs(conn)
        refs: dict[int, int] = {}
        for kind in KINDS:
            for row in transfer.stream(conn, kind, slugs):
                rec = _record(kind, row, refs)
                counts[kind] += 1
                yield line({"kind": kind, **rec})
    yield line({"kind": "end", "counts": counts})


def _record(kind: str, row: dict[str, Any], refs: dict[int, int]) -> dict[str, Any]:
    if kind == "board":
        return {k: row[k] for k in BOARD_FIELDS}
    if kind == "task":
        rec = {k: row[k] for k in TASK_FIELDS}
        rec["skills"] = _loads(row["skills"]) or []
        rec["labels"] = _loads(row["labels"]) or []
        rec["workspace_kind"] = "scratch"  # paths are machine-local; see the module docstring
        if rec["status"] == Status.RUNNING.value:
            rec["status"] = Status.READY.value
        return rec
    if kind == "run":
        refs[row["id"]] = len(refs) + 1
        rec = {k: row[k] for k in RUN_FIELDS}
        rec["ref"], rec["metadata"] = refs[row["id"]], _loads(row["metadata"])
        if rec["ended_at"] is None:
            rec.update(ended_at=row["last_heartbeat_at"] or row["started_at"], status="reclaimed",
                       outcome="reclaimed", error="exported while running")
        return rec
    if kind == "event":
        return {"board": row["board"], "task_id": row["task_id"], "event": row["kind"],
                "payload": _loads(row["payload"]), "created_at": row["created_at"],
                "run_ref": refs.get(row["run_id"]) if row["run_id"] is not None else None}
    if kind == "comment":
        return {k: row[k] for k in ("task_id", "author", "body", "created_at")}
    if kind == "link":
        return {"parent_id": row["parent_id"], "child_id": row["child_id"]}
    return {k: row[k] for k in ("task_id", "platform", "chat_id", "thread_id", "user_id", "created_at")}


def parse(lines: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Check the whole stream before anything is written; errors name the line."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    n, ended, header = 0, None, False
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        if ended is not None:
            raise ValidationError(f"line {n}: data after the end record (line {ended})")
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValidationError(f"line {n}: not JSON ({err.msg}); is the file truncated or not an "
                                  "agentkanban export?") from None
        kind = rec.get("kind") if isinstance(rec, dict) else None
        if not header:
            if kind != "header" or rec.get("format") != FORMAT:
                raise ValidationError(f"line {n}: not an agentkanban export (no header record); "
                                      "to bring tasks from another tool use `kanban import --from`")
            if rec.get("version") != VERSION:
                raise ValidationError(f"line {n}: export format version {rec.get('version')!r}; this "
                                      f"version of kanban reads version {VERSION}")
            header = True
            continue
        if kind == "end":
            ended = n
            _check_counts(n, rec.get("counts"), out)
            continue
        if kind not in KINDS:
            raise ValidationError(f"line {n}: unknown record kind {kind!r}")
        missing = [f for f in REQUIRED[kind] if rec.get(f) is None]
        if missing:
            raise ValidationError(f"line {n}: {kind} record lacks {missing[0]!r}")
        if kind == "task" and rec["status"] not in STATUSES:
            raise ValidationError(f"line {n}: task status {rec['status']!r} is not one of ours")
        out[kind].append(rec)
    if not header:
        raise ValidationError("the file is empty; give a file made by `kanban export`")
    if ended is None:
        raise ValidationError(f"truncated: the file ends at line {n} without its end record; "
                              "export again or copy the whole file")
    return out


def _check_counts(n: int, counts: Any, got: dict[str, list[dict[str, Any]]]) -> None:
    if not isinstance(counts, dict):
        raise ValidationError(f"line {n}: end record without counts")
    for kind in KINDS:
        if counts.get(kind, 0) != len(got[kind]):
            raise ValidationError(f"line {n}: the end record counts {counts.get(kind, 0)} {kind} "
                                  f"records but the file has {len(got[kind])}; the file was cut or edited")


def import_stream(ctx: Ctx, lines: Iterable[str], *, board: str | None = None) -> dict[str, Any]:
    """Load a stream in one transaction. ``board`` puts a one-board export onto that board.
    Task ids are kept unless a task with the same id exists; then a new id is given."""
    from .boards import normalize_slug

    data = parse(lines)
    slugs = {b["slug"] for b in data["board"]}
    target = normalize_slug(board) if board else None
    if target and len(slugs) > 1:
        raise ValidationError(f"--board: the file holds {len(slugs)} boards; import it without --board")
    orphans = sorted({t["board"] for t in data["task"]} - slugs)
    if orphans and not target:
        raise ValidationError(f"tasks name board {orphans[0]!r}, which has no board record in the file")
    with ctx.store.write() as tx:
        taken = transfer.existing_ids(tx.conn, [t["id"] for t in data["task"]])
        remap = {t["id"]: _fresh(tx.conn) if t["id"] in taken else t["id"] for t in data["task"]}
        on = (lambda _slug: target) if target else (lambda slug: slug)
        have = set(transfer.board_slugs(tx.conn))
        new_boards = []
        for b in data["board"] or ([{"slug": target, "name": target, "created_at": ctx.now()}] if target else []):
            slug = on(b["slug"])
            row = ({k: b.get(k) for k in BOARD_FIELDS} | {"slug": slug} |
                   {k: b.get(k) or "" for k in ("description", "icon", "color")})
            if slug not in have:
                have.add(slug)
                new_boards.append(row)
            elif not target and transfer.board_is_empty(tx.conn, slug):
                transfer.set_board(tx.conn, slug, row)  # an empty board takes the file's name and dates
        transfer.insert_many(tx.conn, "board", new_boards)
        _insert_records(tx.conn, data, remap, on)
    return {"boards": sorted({on(b["slug"]) for b in data["board"]}), "tasks": len(data["task"]),
            "renamed": {old: new for old, new in remap.items() if old != new},
            **{k + "s": len(v) for k, v in data.items() if k not in ("board", "task")}}


def _fresh(conn: Any) -> str:
    while True:
        tid = new_task_id()
        if not transfer.existing_ids(conn, [tid]):
            return tid


def _insert_records(conn: Any, data: dict[str, list[dict[str, Any]]], remap: dict[str, str],
                    on: Any) -> None:
    def tid(old: str) -> str:
        if old not in remap:
            raise ValidationError(f"a record names task {old}, which is not in the file")
        return remap[old]

    tasks = []
    for t in data["task"]:
        row = {k: t.get(k) for k in TASK_FIELDS} | {"id": tid(t["id"]), "board": on(t["board"])}
        row["skills"] = db_dumps(t.get("skills")) if t.get("skills") else None
        labels = clean_labels(t.get("labels"))  # a file from another hand is checked like input
        row["labels"] = db_dumps(labels) if labels else None
        row["due_at"] = parse_due(t.get("due_at"))
        row["workspace_kind"] = "scratch"
        row["priority"] = row["priority"] or 0
        row["consecutive_failures"] = row["consecutive_failures"] or 0
        tasks.append(row)
    transfer.insert_many(conn, "task", tasks)
    transfer.insert_many(conn, "link", [{"parent_id": tid(x["parent_id"]), "child_id": tid(x["child_id"])}
                                        for x in data["link"]])
    transfer.insert_many(conn, "comment", [{**{k: c[k] for k in REQUIRED["comment"]},
                                            "task_id": tid(c["task_id"])} for c in data["comment"]])
    run_ids: dict[int, int] = {}
    for r in data["run"]:
        row = {k: r.get(k) for k in RUN_FIELDS} | {"task_id": tid(r["task_id"]), "board": on(r["board"])}
        row["metadata"] = db_dumps(r.get("metadata"))
        run_ids[r["ref"]] = transfer.insert_returning_id(conn, "run", row)
    transfer.insert_many(conn, "event", [
        {"board": on(e["board"]), "task_id": tid(e["task_id"]), "kind": e["event"],
         "payload": db_dumps(e.get("payload")), "created_at": e["created_at"],
         "run_id": run_ids.get(e["run_ref"]) if e.get("run_ref") is not None else None}
        for e in data["event"]])
    transfer.insert_many(conn, "subscription", [
        {k: s.get(k) for k in ("platform", "chat_id", "user_id", "created_at")}
        | {"task_id": tid(s["task_id"]), "thread_id": s.get("thread_id") or ""}
        for s in data["subscription"]])
