"""Where a worker runs: a scratch folder, a directory the user named, or a git worktree.

Only scratch folders are ever deleted, and only inside the board's own workspaces folder: a user's
``dir:`` or repository is never touched (a reference implementation once deleted a user's source
tree while "cleaning up"; another deleted a parent's scratch before its children had read it).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ..domain.models import Task
from ..errors import SpawnError
from ..ids import TASK_ID_RE
from ..services import Ctx, dispatching
from ..services import boards as boards_svc
from . import procs, spawner

FINISHED = ("done", "archived")


def _absolute(path: str | None, kind: str) -> Path:
    if not path or not os.path.isabs(path) or "\x00" in path:
        raise SpawnError(f"workspace {kind!r} needs an absolute path, got {path!r}")
    return Path(os.path.normpath(path))


def resolve(ctx: Ctx, board: str, task: Task) -> Path:
    """Create (or find again, on a retry) the task's workspace and return its absolute path."""
    kind = task.workspace_kind
    if kind == "scratch":
        path = boards_svc.workspaces_dir(ctx, board) / task.id
        path.mkdir(parents=True, exist_ok=True)
        return path
    if kind == "dir":
        path = _absolute(task.workspace_path, kind)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SpawnError(f"workspace dir {path}: {err.strerror or err}") from None
        return path
    if kind == "worktree":
        return _worktree(_absolute(task.workspace_path, kind), task.id)
    raise SpawnError(f"unknown workspace kind {kind!r}")


SEARCH = 0o011  # group and others may pass through a folder (never list it)


def give_to(ctx: Ctx, board: str, path: Path, user: spawner.RunAs) -> None:
    """Ready ``path`` for a worker running as ``user`` (``run_as``). A scratch workspace is chowned
    to it, and the folders from ``$KANBAN_HOME`` down to it become searchable (0711, never listable)
    while every file directly in ``$KANBAN_HOME`` (database, token, config.yaml) is made private to
    its owner. Any workspace: refused unless the user can reach it."""
    root = boards_svc.workspaces_dir(ctx, board)
    if path.parent == root:
        me = os.geteuid()
        chain = [ctx.home]
        for part in root.relative_to(ctx.home).parts:
            chain.append(chain[-1] / part)
        for folder in chain:
            st = folder.stat()
            if st.st_uid == me and stat.S_IMODE(st.st_mode) & SEARCH != SEARCH:
                folder.chmod(stat.S_IMODE(st.st_mode) | SEARCH)
        for entry in os.scandir(ctx.home):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == me and st.st_mode & 0o077:
                os.chmod(entry.path, stat.S_IMODE(st.st_mode) & 0o700)
        if path.stat().st_uid != user.uid:
            os.chown(path, user.uid, user.gid)
    for folder in (path, *path.parents) if user.uid != 0 else ():
        st = folder.stat()
        bits = 0o100 if st.st_uid == user.uid else 0o010 if st.st_gid in user.groups else 0o001
        if not st.st_mode & bits:
            raise SpawnError(f"run_as user {user.name!r} cannot reach the workspace {path}: {folder} "
                             f"(mode {stat.S_IMODE(st.st_mode):o}) is not searchable by it; put "
                             "KANBAN_HOME (or the task's workspace dir) where that user can reach it")


def _worktree(repo: Path, task_id: str) -> Path:
    """``git worktree add <repo>/.worktrees/<id>`` on branch ``wt/<id>``; reused by a retry."""
    rc, top = spawner.run_command(["git", "-C", str(repo), "rev-parse", "--show-toplevel"])
    if rc != 0:
        raise SpawnError(f"workspace worktree: {repo} is not a git repository ({top})")
    target = Path(top) / ".worktrees" / task_id
    if (target / ".git").exists():
        return target
    branch = f"wt/{task_id}"
    rc, out = spawner.run_command(["git", "-C", top, "worktree", "add", "-b", branch, str(target)])
    if rc != 0 and "already exists" in out:
        rc, out = spawner.run_command(["git", "-C", top, "worktree", "add", str(target), branch])
    if rc != 0:
        raise SpawnError(f"workspace worktree: git worktree add failed: {out}")
    return target


def sweep(ctx: Ctx, board: str, *, min_age: float, busy_tasks: set[str]) -> list[str]:
    """Remove the scratch folders of finished tasks whose children are finished too.

    ``busy_tasks``: tasks with a worker process still alive here (it may still be writing).
    """
    root = boards_svc.workspaces_dir(ctx, board)
    try:
        names = [e.name for e in os.scandir(root)
                 if TASK_ID_RE.match(e.name) and e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []
    if not names:
        return []
    states, needed = dispatching.workspace_owners(ctx, names)
    now = ctx.now()
    removed = []
    real_root = root.resolve()
    for name in names:
        state = states.get(name)
        if name in busy_tasks or name in needed:
            continue
        if state is not None and (state[0] not in FINISHED or now - state[1] < min_age):
            continue
        path = root / name
        if path.is_symlink() or path.resolve().parent != real_root:
            continue  # never follow a link out of the managed folder
        shutil.rmtree(path, ignore_errors=True)
        removed.append(name)
    return removed


def live_workers(ctx: Ctx, task_ids: list[str]) -> set[str]:
    """Those of ``task_ids`` whose last attempt's worker process is still alive on this machine
    (an archived task's worker may still be shutting down, and writing to its folder)."""
    if not task_ids:
        return set()
    last = dispatching.last_runs(ctx, task_ids)
    return {tid for tid, run in last.items()
            if run.worker_pid is not None and procs.worker_alive(run.worker_pid, run.id)}
