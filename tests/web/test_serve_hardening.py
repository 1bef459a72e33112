"""``kanban serve`` against hostile neighbours: weak tokens off loopback, floods of idle clients."""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

STRONG = "Vq3-k9Zr1xWm8Tj2Lp7Ns4Yc6Hd0Bf5"
FLOOD = 300  # more connections than the file limit the server starts with below


def _serve(home: Path, *args: str, token: str, preexec=None) -> subprocess.Popen[str]:
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_TOKEN": token}
    return subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--no-dispatch",
                             "--no-notify", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=preexec)


def _listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)


def test_a_weak_token_is_refused_off_loopback(tmp_path):
    for weak in ("x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "short-but-chosen"):
        proc = _serve(tmp_path / "h", "--host", "0.0.0.0", "--port", "0", token=weak)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode != 0 and "weak token" in err, err


def test_the_real_binding_is_printed(tmp_path):
    proc = _serve(tmp_path / "h", "--host", "0.0.0.0", "--port", "0", token=STRONG)
    try:
        line = _listening(proc)
        assert re.search(r"listening on 0\.0\.0\.0:\d+ \(reachable from other machines\)", line), line
    finally:
        _stop(proc)


def test_files_are_private(tmp_path):
    home = tmp_path / "h"
    env = {**os.environ, "KANBAN_HOME": str(home)}
    env.pop("KANBAN_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "serve", "--no-dispatch",
                             "--no-notify", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _listening(proc)
        for name in ("kanban.db", "token"):
            assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
    finally:
        _stop(proc)


def _low_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def test_a_flood_of_idle_connections_neither_starves_health_nor_lingers(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.yaml").write_text("serve:\n  header_timeout_seconds: 2\n")
    proc = _serve(home, "--port", "0", token=STRONG, preexec=_low_file_limit)
    socks: list[socket.socket] = []
    try:
        addr = re.search(r"listening on 127\.0\.0\.1:(\d+)", _listening(proc))
        assert addr
        port = int(addr.group(1))
        for _ in range(FLOOD):  # half-open: headers started, never finished
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /api/board HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(s)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.status_code == 200
        # Every slow client is cut off once its header deadline passes.
        deadline = time.monotonic() + 60
        closed = 0
        for s in socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                if s.recv(1024) == b"":
                    closed += 1
            except (TimeoutError, ConnectionResetError):
                closed += isinstance(sys.exc_info()[1], ConnectionResetError)
        assert closed == FLOOD
    finally:
        for s in socks:
            s.close()
        _stop(proc)
