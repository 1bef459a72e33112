"""Ctrl-C (or SIGTERM) of `kanban serve` says what it stopped and that workers keep running,
and exits 0; the workers it started do keep running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml


def _env(home: Path, db_url: str) -> dict[str, str]:
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}
    for var in ("KANBAN_TASK_ID", "KANBAN_RUN_ID", "KANBAN_RUN_TOKEN", "KANBAN_PROFILE", "KANBAN_BOARD",
                "KANBAN_TOKEN"):
        env.pop(var, None)
    return env


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--port", "0", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # until the server listens (its signal handlers are in place then)
        if line.startswith("kanban serve: open "):
            return proc
    proc.kill()
    raise AssertionError(f"serve did not start: {proc.communicate()[1]}")


def _kanban(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentkanban", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_says_what_stopped(home, db_url) -> None:
    proc = _serve(_env(home, db_url), "--no-notify")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == ("kanban serve: stopped the web server and the dispatcher (SIGTERM); "
                                    "no worker was running")


def test_ctrl_c_leaves_running_workers_running(home, db_url) -> None:
    home.mkdir(parents=True, exist_ok=True)
    sleeper = [sys.executable, "-c", "import time; time.sleep(300)"]
    (home / "config.yaml").write_text(yaml.safe_dump(
        {"profiles": {"sleeper": {"command": sleeper}}, "dispatch": {"interval_seconds": 0.2}}))
    env = _env(home, db_url)
    created = _kanban(env, "create", "long job", "--assignee", "sleeper", "--json")
    assert created.returncode == 0, created.stderr
    tid = json.loads(created.stdout)["task"]["id"]
    proc = _serve(env)
    pid = None
    try:
        deadline = time.monotonic() + 90
        while pid is None and time.monotonic() < deadline:
            task = json.loads(_kanban(env, "show", tid, "--json").stdout)["task"]
            pid = task["worker_pid"] if task["status"] == "running" else None
            time.sleep(0.2)
        assert pid is not None, "the dispatcher did not start the worker"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.splitlines()[-1] == (
            "kanban serve: stopped the web server, the dispatcher and the notifier (Ctrl-C); "
            "1 running worker keeps running; the next `kanban serve` or `kanban daemon` picks up "
            "what it reports")
        assert _alive(pid)
        assert json.loads(_kanban(env, "show", tid, "--json").stdout)["task"]["status"] == "running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if pid is not None and _alive(pid):
            os.killpg(pid, signal.SIGKILL)  # the worker leads its own process group


def test_the_daemon_says_workers_keep_running(home, db_url) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "daemon"], env=_env(home, db_url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    started = proc.stderr.readline()
    assert started.startswith("dispatcher running (pid "), started
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert err.splitlines()[-1] == "dispatcher stopped; no worker was running"
