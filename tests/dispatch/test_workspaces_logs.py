"""Workspaces (scratch, dir, worktree, cleanup) and worker logs (rotation, tail)."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from agentkanban.dispatch import logs, workspaces
from agentkanban.errors import SpawnError, ValidationError
from agentkanban.services import boards as boards_svc
from agentkanban.services import tasks, transitions

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_scratch_is_removed_after_completion_once_no_child_needs_it(ctx, user):
    boards_svc.create(ctx, "default")
    parent = tasks.create(ctx, "default", title="parent", actor=user).task
    child = tasks.create(ctx, "default", title="child", actor=user, parents=[parent.id]).task
    p_ws = workspaces.resolve(ctx, "default", parent)
    (p_ws / "notes.md").write_text("for the child")
    c_ws = workspaces.resolve(ctx, "default", child)
    assert p_ws == boards_svc.workspaces_dir(ctx, "default") / parent.id and p_ws.is_dir()
    transitions.complete(ctx, "default", parent.id, actor=user, summary="ok")
    assert workspaces.sweep(ctx, "default", min_age=0, busy_tasks=set()) == []  # child still open
    transitions.complete(ctx, "default", child.id, actor=user, summary="ok")
    assert workspaces.sweep(ctx, "default", min_age=0, busy_tasks={child.id}) == [parent.id]
    assert not p_ws.exists() and c_ws.exists()  # a worker is still running in the child's folder
    assert workspaces.sweep(ctx, "default", min_age=60, busy_tasks=set()) == []  # too recent
    assert workspaces.sweep(ctx, "default", min_age=0, busy_tasks=set()) == [child.id]


def test_sweep_never_leaves_the_managed_folder(ctx, user, tmp_path):
    boards_svc.create(ctx, "default")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "src.py").write_text("print('keep me')")
    t = tasks.create(ctx, "default", title="dir task", actor=user, workspace=f"dir:{precious}").task
    assert workspaces.resolve(ctx, "default", t) == precious
    transitions.complete(ctx, "default", t.id, actor=user, summary="ok")
    root = boards_svc.workspaces_dir(ctx, "default")
    (root / "t_0badc0de").symlink_to(precious, target_is_directory=True)  # a link named like a task
    (root / "not-a-task").mkdir()
    assert workspaces.sweep(ctx, "default", min_age=0, busy_tasks=set()) == []
    assert (precious / "src.py").exists() and (root / "not-a-task").is_dir()


def test_relative_and_missing_paths_are_refused(ctx, user):
    boards_svc.create(ctx, "default")
    t = tasks.create(ctx, "default", title="x", actor=user).task
    with pytest.raises(ValidationError):
        tasks.create(ctx, "default", title="rel", actor=user, workspace="dir:relative/path")
    for kind, path in (("dir", "relative/path"), ("dir", None), ("worktree", "../repo")):
        bad = dataclasses.replace(t, workspace_kind=kind, workspace_path=path)
        with pytest.raises(SpawnError, match="absolute path"):
            workspaces.resolve(ctx, "default", bad)


def test_worktree_is_a_real_git_worktree_reused_by_a_retry(ctx, user, tmp_path):
    boards_svc.create(ctx, "default")
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    (repo / "README").write_text("hi")
    subprocess.run([*git, "-C", str(repo), "add", "README"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    t = tasks.create(ctx, "default", title="wt", actor=user, workspace=f"worktree:{repo}").task
    path = workspaces.resolve(ctx, "default", t)
    assert path == repo / ".worktrees" / t.id and (path / "README").exists()
    branches = subprocess.run(["git", "-C", str(repo), "branch", "--list", f"wt/{t.id}"],
                              capture_output=True, text=True, check=True).stdout
    assert f"wt/{t.id}" in branches
    assert workspaces.resolve(ctx, "default", t) == path
    not_repo = dataclasses.replace(t, workspace_path=str(tmp_path))
    with pytest.raises(SpawnError, match="not a git repository"):
        workspaces.resolve(ctx, "default", not_repo)


def test_log_rotation_keeps_one_backup(ctx, tmp_path):
    path = tmp_path / "t.log"
    path.write_bytes(b"a" * 2000)
    assert logs.rotate_before_spawn(path, 1024, 1)
    assert not path.exists() and (tmp_path / "t.log.1").stat().st_size == 2000
    path.write_bytes(b"b" * 3000)
    assert logs.rotate_before_spawn(path, 1024, 1)
    assert (tmp_path / "t.log.1").read_bytes() == b"b" * 3000 and not (tmp_path / "t.log.2").exists()
    with open(path, "ab") as writer:  # a worker keeps appending while the log is rotated
        writer.write(b"c" * 1500)
        writer.flush()
        assert logs.rotate_live(path, 1024, 1)
        writer.write(b"after")
        writer.flush()
    assert path.read_bytes() == b"after"
    assert (tmp_path / "t.log.1").read_bytes() == b"c" * 1500
    assert not logs.rotate_live(path, 1024, 1)


def test_read_log_tail(ctx, user):
    boards_svc.create(ctx, "default")
    t = tasks.create(ctx, "default", title="x", actor=user).task
    empty = logs.read_log(ctx, "default", t.id)
    assert empty == {"task_id": t.id, "path": str(logs.log_path(ctx, "default", t.id)), "exists": False,
                     "size_bytes": 0, "content": "", "truncated": False}
    path = logs.log_path(ctx, "default", t.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"line {i}\n" for i in range(100)))
    full = logs.read_log(ctx, "default", t.id)
    assert full["exists"] and not full["truncated"] and full["content"].startswith("line 0\n")
    tail = logs.read_log(ctx, "default", t.id, tail_bytes=20)
    assert tail["truncated"] and tail["content"].endswith("line 99\n")
    assert tail["content"].startswith("line ")  # cut at a line boundary
    assert tail["size_bytes"] == full["size_bytes"]
    with pytest.raises(ValidationError):
        logs.log_path(ctx, "default", "../../etc/passwd")
