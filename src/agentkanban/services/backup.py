"""``kanban backup`` and ``kanban restore``.

SQLite: an online, consistent copy through SQLite's backup API (writers carry on; every write
committed before the copy started is in it). PostgreSQL: the database server's own tool,
``pg_dump``, is the right one; we print the command line instead of re-implementing it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import Conflict, ValidationError
from ..store import backup as store
from ..store import migrate, open_store
from .base import Ctx


def pg_command(url: str, tool: str, path: Path) -> str:
    """The pg_dump / pg_restore line for ``url`` (the password stays out: use ~/.pgpass or PGPASSWORD)."""
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql", password=None)
    conn = u.render_as_string(hide_password=False)
    if tool == "pg_dump":
        return f"pg_dump --format=custom --file {shlex.quote(str(path))} {shlex.quote(conn)}"
    return f"pg_restore --exit-on-error --dbname {shlex.quote(conn)} {shlex.quote(str(path))}"


def backup(ctx: Ctx, target: Path) -> dict[str, Any]:
    """Copy the database to ``target`` (which must not exist). For PostgreSQL: the pg_dump line."""
    target = target.expanduser().absolute()
    if store.sqlite_path(ctx.store) is None:
        return {"backend": "postgresql", "done": False,
                "command": pg_command(ctx.settings.database_url, "pg_dump", target)}
    if target.exists():
        raise Conflict(f"{target} exists; choose a new file name (a backup never overwrites)")
    if not target.parent.is_dir():
        raise ValidationError(f"{target.parent} is not a directory")
    partial = target.with_name(target.name + ".partial")
    store.copy_online(ctx.store, partial)
    revision, problems = store.describe(partial)
    if problems:
        partial.unlink(missing_ok=True)
        raise Conflict("the copy failed its integrity check: " + "; ".join(problems[:3]))
    partial.rename(target)
    return {"backend": "sqlite", "done": True, "path": str(target), "revision": revision,
            "bytes": target.stat().st_size}


def restore(settings: Settings, source: Path) -> dict[str, Any]:
    """Put a backup in place as this home's database; the home must not have one yet."""
    source = source.expanduser().absolute()
    if not source.is_file():
        raise ValidationError(f"{source}: no such file")
    url = settings.database_url
    if not url.startswith("sqlite"):
        return {"backend": "postgresql", "done": False, "command": pg_command(url, "pg_restore", source)}
    target = Path(url.split("///", 1)[-1])
    if target.exists() and target.stat().st_size > 0:
        raise Conflict(f"this home already has a database ({target}); restore into an empty "
                       "KANBAN_HOME, or move that file away first (nothing is overwritten)")
    try:
        revision, problems = store.describe(source)
    except (ValueError, OSError) as err:
        raise ValidationError(f"{source}: {err}; give a file made by `kanban backup`") from None
    if revision is None:
        raise ValidationError(f"{source}: a SQLite database, but not an agentkanban one")
    if problems:
        raise ValidationError(f"{source} fails its integrity check: " + "; ".join(problems[:3]))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    partial.unlink(missing_ok=True)
    store.copy_file(source, partial)
    partial.rename(target)
    restored = open_store(url, synchronous=settings.sqlite_synchronous)  # migrates an older copy
    return {"backend": "sqlite", "done": True, "path": str(target), "from_revision": revision,
            "revision": migrate.current_revision(restored)}
