"""Labels: free-form names on tasks, each with a colour (chosen, or derived from the name).

Every surface (API, CLI, dashboard, MCP) goes through :func:`clean_labels` and
:func:`clean_color`, so a bad label is refused with the same words everywhere.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from typing import Any

from ..domain import events as ev
from ..domain.models import Task
from ..domain.text import invalid_text
from ..errors import ValidationError
from ..store import Tx
from ..store import events as store_events
from ..store import labels as store_labels
from ..store import tasks as store_tasks
from ..store.rows import dumps
from .base import Ctx
from .common import load, not_found, resolve_in

MAX_LABEL = 40  # characters in one label
MAX_LABELS = 20  # labels on one task
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLOR = re.compile(r"^#[0-9a-f]{6}$")


def clean_label(raw: Any) -> str:
    """One label: trimmed, 1-40 characters, no control characters and no commas (a comma
    separates labels in the CLI and in filters)."""
    if not isinstance(raw, str):
        raise ValidationError("a label must be text")
    why = invalid_text(raw)
    if why:
        raise ValidationError(f"label {why}")
    name = raw.strip()
    if not name:
        raise ValidationError("a label cannot be empty")
    if len(name) > MAX_LABEL:
        raise ValidationError(f"label {name[:MAX_LABEL]!r}... is too long ({len(name)} characters, "
                              f"at most {MAX_LABEL})")
    if _CONTROL.search(name):
        raise ValidationError(f"label {name!r} contains a control character")
    if "," in name:
        raise ValidationError(f"label {name!r} contains a comma; give one label at a time")
    return name


def clean_labels(raw: Any) -> list[str]:
    """A list of labels, cleaned, without duplicates, sorted; at most :data:`MAX_LABELS`."""
    if raw is None:
        return []
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        raise ValidationError("labels must be a list of names")
    out = sorted({clean_label(x) for x in raw})
    if len(out) > MAX_LABELS:
        raise ValidationError(f"too many labels ({len(out)}, at most {MAX_LABELS} on a task)")
    return out


def clean_color(raw: str) -> str:
    """``#rrggbb`` (``#RGB`` is widened), or ``""`` to go back to the colour derived from the name."""
    c = (raw or "").strip().lower()
    if not c or c in ("auto", "none"):
        return ""
    if re.fullmatch(r"#[0-9a-f]{3}", c):
        c = "#" + "".join(ch * 2 for ch in c[1:])
    if not _COLOR.match(c):
        raise ValidationError(f"bad colour {raw!r}: use #rrggbb (e.g. #3b82f6), or 'auto'")
    return c


def derived_color(name: str) -> str:
    """A stable colour for a label nobody chose one for: the hue from a hash of the lower-cased
    name, mid lightness and saturation, so white text stays readable on it."""
    h = int.from_bytes(hashlib.sha256(name.lower().encode()).digest()[:2], "big") / 65536
    r, g, b = colorsys.hls_to_rgb(h, 0.42, 0.55)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def board_labels(ctx: Ctx, board: str) -> list[dict[str, Any]]:
    """Every label in use on the board or with a chosen colour: name, colour, open-task count."""
    with ctx.store.read() as conn:
        counts = store_labels.counts(conn, board)
        chosen = store_labels.colors(conn, board)
    names = sorted(set(counts) | set(chosen), key=str.lower)
    return [{"name": n, "color": chosen.get(n) or derived_color(n), "custom": n in chosen,
             "count": counts.get(n, 0)} for n in names]


def set_color(ctx: Ctx, board: str, name: str, color: str) -> dict[str, Any]:
    """Choose a label's colour on a board (``""``/``auto`` returns to the derived one)."""
    name = clean_label(name)
    c = clean_color(color)
    with ctx.store.write() as tx:
        store_labels.set_color(tx.conn, board, name, c or None)
        count = store_labels.counts(tx.conn, board).get(name, 0)
    return {"name": name, "color": c or derived_color(name), "custom": bool(c), "count": count}


def change_in(tx: Tx, board: str, task: Task, new: list[str], now: float) -> bool:
    """Write ``new`` (already cleaned) as the task's labels; an event when they changed."""
    if list(task.labels) == new:
        return False
    store_tasks.set_fields(tx.conn, task.id, {"labels": dumps(new, "labels") if new else None,
                                              "updated_at": now})
    added = sorted(set(new) - set(task.labels))
    removed = sorted(set(task.labels) - set(new))
    store_events.append(tx, board=board, task_id=task.id, kind=ev.LABELED, now=now,
                        payload={"labels": new, "added": added, "removed": removed})
    return True


def merged(task: Task, add: list[str], remove: list[str], base: list[str] | None = None) -> list[str]:
    """The task's labels (or ``base`` instead) with ``add`` added and ``remove`` removed, all
    already cleaned; refused past :data:`MAX_LABELS`."""
    out = sorted((set(task.labels if base is None else base) | set(add)) - set(remove))
    if len(out) > MAX_LABELS:
        raise ValidationError(f"task {task.id} would have {len(out)} labels, at most {MAX_LABELS}")
    return out


def edit(ctx: Ctx, board: str, refs: list[str], *, add: Any = None, remove: Any = None,
         replace: Any = None) -> list[Task]:
    """Add and remove labels on one or many tasks (or ``replace`` them all) in one transaction:
    every task changes or none does."""
    adding, removing = clean_labels(add), clean_labels(remove)
    setting = None if replace is None else clean_labels(replace)
    if setting is None and not adding and not removing:
        raise ValidationError("say which labels to add or remove")
    if not refs:
        raise ValidationError("a task id is required")
    now = ctx.now()
    with ctx.store.write() as tx:
        ids = list(dict.fromkeys(resolve_in(tx.conn, board, r) for r in refs))
        found = store_tasks.get_many(tx.conn, board, ids)
        for tid in ids:
            if tid not in found:
                raise not_found(board, tid)
        for tid in ids:
            task = found[tid]
            change_in(tx, board, task, merged(task, adding, removing, setting), now)
        return [load(tx.conn, board, tid) for tid in ids]


__all__ = ["MAX_LABEL", "MAX_LABELS", "board_labels", "change_in", "clean_color", "clean_label",
           "clean_labels", "derived_color", "edit", "merged", "set_color"]
