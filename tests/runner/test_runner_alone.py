"""``kanban runner`` on its own: no database, no server variables, a server that is not there."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

TOKEN = "kbr_alone-0123456789abcdef"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    import os

    return {"PATH": os.environ["PATH"], "HOME": str(home), "KANBAN_HOME": str(home)}


def test_an_unreachable_server_is_logged_once_and_the_first_signal_stops_it(tmp_path: Path) -> None:
    (tmp_path / "runner.yaml").write_text(yaml.safe_dump({"profiles": {"p": {"command": ["true"]}}}))
    log = tmp_path / "runner.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentkanban", "runner", "--server", f"http://127.0.0.1:{_closed_port()}",
             "--token", TOKEN], env={**_env(tmp_path), "KANBAN_RUNNER_TOKEN": "unused"},
            stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while "server unreachable" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3.5)  # a few more tries (1 s, 2 s backoff): still one line
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    text = log.read_text()
    assert text.count("server unreachable") == 1, text
    assert "claiming no more work" in text and "runner stopped" in text
    assert TOKEN not in text
    assert not (tmp_path / "kanban.db").exists()


def test_missing_token_or_server_is_one_error_line(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "agentkanban", "runner", "--server", "http://127.0.0.1:9"],
                         env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert run.stderr.startswith("error: no runner token") and "kanban runners token create" in run.stderr
    run = subprocess.run([sys.executable, "-m", "agentkanban", "runner", "--token", TOKEN],
                         env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "no server" in run.stderr
    assert not (tmp_path / "kanban.db").exists()


def test_the_runner_imports_neither_the_store_nor_the_services() -> None:
    code = ("import sys; import agentkanban.cli.runner, agentkanban.runner.loop; "
            "print(sorted(m for m in sys.modules if m.startswith(('agentkanban.store', "
            "'agentkanban.services', 'agentkanban.web', 'sqlalchemy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
