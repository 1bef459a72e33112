"""The README's quick start works as written: the profile it defines runs the task it creates."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _quick_start() -> tuple[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    config = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert config, "the quick start shows a config.yaml"
    create = next(ln for ln in section.splitlines() if ln.startswith("kanban create "))
    return config.group(1), shlex.split(create.split("  #")[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_example_task_runs_on_the_profile_the_readme_defines(tmp_path) -> None:
    config, create = _quick_start()
    assignee = create[create.index("--assignee") + 1]
    assert re.search(rf"^\s+{re.escape(assignee)}:\s*$", config, re.M), "the task's profile is defined"
    home = tmp_path / "home"
    env = {**os.environ, "KANBAN_HOME": str(home),
           # The worker's `kanban` is this installation's, as after `pip install .`.
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for var in ("KANBAN_DATABASE_URL", "KANBAN_BOARD", "KANBAN_TASK_ID", "KANBAN_TOKEN"):
        env.pop(var, None)

    def kanban(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agentkanban", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    assert kanban("init").returncode == 0
    (home / "config.yaml").write_text(config)
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--port", str(_free_port()),
                              "--no-notify"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        made = kanban(*create[1:], "--json")
        assert made.returncode == 0, made.stderr
        task_id = json.loads(made.stdout)["task"]["id"]
        deadline = time.monotonic() + 90
        status = ""
        while time.monotonic() < deadline:
            status = json.loads(kanban("show", task_id, "--json").stdout)["task"]["status"]
            if status in ("done", "blocked"):
                break
            time.sleep(0.5)
        assert status == "done", (tmp_path / "serve.log").read_text()
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
