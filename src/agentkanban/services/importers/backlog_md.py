"""A Backlog.md project's ``backlog/`` folder: markdown tasks with YAML front matter.

Read against Backlog.md's published format (its ``src/markdown`` serializer and its own
``backlog/`` folder): ``tasks/<id> - <Title>.md`` (active; files ``<prefix>-*.md``, the prefix from ``config.yml``,
default ``task``), ``drafts/`` (``draft-*.md``), ``completed/``, ``archive/tasks/`` and
``archive/drafts/``; front matter ``id``, ``title``, ``status`` (one of
``statuses`` in ``config.yml``, default ``To Do``, ``In Progress``, ``Done``: the last one is
done), ``assignee`` (a list, ``@name``), ``created_date``/``updated_date`` (``YYYY-MM-DD HH:MM``),
``labels``, ``dependencies`` (task ids), ``parent_task_id``, ``priority`` (high/medium/low). The body
keeps its sections (description, acceptance criteria ``- [x] #1 ...``, plan, notes) as markdown,
without Backlog.md's ``<!-- SECTION:... -->`` markers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ...domain.statuses import Status
from ...errors import ValidationError
from .common import Item, Project

# (folder, status it forces, file prefix: None for the configured task prefix)
FOLDERS = (("tasks", None, None), ("drafts", Status.TRIAGE, "draft"), ("completed", Status.DONE, None),
           ("archive/tasks", Status.ARCHIVED, None), ("archive/drafts", Status.ARCHIVED, "draft"))
PRIORITY = {"high": 2, "medium": 1, "low": 0}
_PEOPLE = re.compile(r"^(\s*(?:assignee|reporter):\s*)(.+?)\s*$")
_MARKER = re.compile(r"^[ \t]*<!-- (?:SECTION:[A-Z_]+|AC|DOD|COMMENTS?):(?:BEGIN|END) -->[ \t]*\n?", re.M)


def _root(path: Path) -> Path:
    path = path.expanduser()
    if (path / "backlog").is_dir() and not (path / "tasks").is_dir():
        path = path / "backlog"
    if not path.is_dir() or not ((path / "tasks").is_dir() or (path / "config.yml").is_file()):
        raise ValidationError(f"{path}: not a Backlog.md folder (expected backlog/ with config.yml "
                              "and tasks/); give the project's backlog/ folder")
    return path


def read(path: Path) -> list[Project]:
    root = _root(path)
    config = _yaml_file(root / "config.yml") if (root / "config.yml").is_file() else {}
    statuses = config.get("statuses") or ["To Do", "In Progress", "Done"]
    name = str(config.get("project_name") or root.resolve().parent.name or "backlog")
    raw_prefixes = config.get("prefixes")
    prefixes: dict[str, Any] = raw_prefixes if isinstance(raw_prefixes, dict) else {}
    task_prefix = str(prefixes.get("task") or config.get("task_prefix") or "task").lower()
    items = []
    for folder, forced, prefix in FOLDERS:
        # As Backlog.md loads them: "<prefix>-*.md" (its readme.md files are not tasks).
        pattern = f"{(prefix or task_prefix)}-"
        files = sorted(f for f in (root / folder).glob("*.md") if f.name.lower().startswith(pattern)) \
            if (root / folder).is_dir() else []
        items += [_item(f, forced, [str(s) for s in statuses]) for f in files]
    return [Project(name=name, items=items)]


def _yaml_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValidationError(f"{path.name}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path.name}: expected a mapping")
    return data


def _quote_handles(front: str) -> str:
    """Backlog.md accepts ``assignee: @alice`` and ``assignee: [@bob, carol]``, which YAML does not
    (``@`` cannot start a plain scalar): quote such handles before parsing, as Backlog.md does."""

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if value.startswith("@") else value

    out = []
    for line in front.split("\n"):
        m = _PEOPLE.match(line)
        if m:
            value = m.group(2)
            if value.startswith("[") and value.endswith("]"):
                value = "[" + ", ".join(q(v.strip()) for v in value[1:-1].split(",") if v.strip()) + "]"
            else:
                value = q(value)
            line = m.group(1) + value
        out.append(line)
    return "\n".join(out)


def _split(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: not a text file") from None
    m = re.match(r"^---\n(.*?)\n---[ \t]*\n?(.*)$", text, re.S)
    if not m:
        raise ValidationError(f"{path.name}: no front matter (a task file starts with ---)")
    try:
        meta = yaml.safe_load(_quote_handles(m.group(1)))
    except yaml.YAMLError as err:
        raise ValidationError(f"{path.name}: front matter is not valid YAML ({err})") from None
    if not isinstance(meta, dict):
        raise ValidationError(f"{path.name}: front matter is not a mapping")
    return meta, m.group(2)


def _when(value: Any, path: Path, field: str) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    text = str(value).strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ValidationError(f"{path.name}: {field} {text!r} is not a date (YYYY-MM-DD HH:MM)")


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def _item(path: Path, forced: Status | None, statuses: list[str]) -> Item:
    meta, body = _split(path)
    for field in ("id", "title"):
        if not str(meta.get(field) or "").strip():
            raise ValidationError(f"{path.name}: front matter lacks {field!r}")
    status_text = str(meta.get("status") or statuses[0])
    if forced is not None:
        status = forced
    elif status_text.lower() == statuses[-1].lower() or status_text.lower() == "done":
        status = Status.DONE
    elif status_text.lower() == "in progress":
        status = Status.BLOCKED
    else:
        status = Status.TRIAGE
    created = _when(meta.get("created_date"), path, "created_date") or path.stat().st_mtime
    updated = _when(meta.get("updated_date"), path, "updated_date") or created
    body = _MARKER.sub("", body).strip()
    extra = []
    if status is Status.BLOCKED:
        extra.append(f"It was {status_text!r} in Backlog.md when imported; no worker runs it here.")
    if _names(meta.get("labels")):
        extra.append("Labels: " + ", ".join(_names(meta.get("labels"))))
    if meta.get("parent_task_id"):
        extra.append(f"Subtask of {meta['parent_task_id']}.")
    assignees = [a.lstrip("@").lower() for a in _names(meta.get("assignee"))]
    return Item(key=str(meta["id"]).strip().lower(), title=str(meta["title"]).strip(), status=status,
                created_at=created, updated_at=updated,
                body="\n\n".join(x for x in (body, *extra) if x) or None,
                assignee=assignees[0] if assignees else None,
                priority=PRIORITY.get(str(meta.get("priority") or "").lower(), 0),
                depends_on=[d.lower() for d in _names(meta.get("dependencies"))])
