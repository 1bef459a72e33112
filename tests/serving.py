"""A real ``kanban serve`` on a free port of 127.0.0.1, with its own KANBAN_HOME and token: the
browser tests and the runner tests drive it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "ui-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    token: str = TOKEN
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, cookies={"kanban_token": self.token}, timeout=30)

    def api(self, method: str, path: str, *, board: str | None = None, **kw: Any) -> Any:
        params = dict(kw.pop("params", {}) or {})
        if board:
            params["board"] = board
        r = self.client.request(method, path, params=params, **kw)
        assert r.status_code < 400, f"{method} {path} -> {r.status_code}: {r.text}"
        return r.json()

    def create(self, title: str, *, board: str = "default", **fields: Any) -> dict[str, Any]:
        return self.api("POST", "/api/tasks", board=board, json={"title": title, **fields})["task"]  # type: ignore[no-any-return]

    def task(self, task_id: str, board: str = "default") -> dict[str, Any]:
        return self.api("GET", f"/api/tasks/{task_id}", board=board)  # type: ignore[no-any-return]

    def ctx(self) -> Any:
        """The services' context over this server's own database (to set a test up)."""
        from agentkanban.config import load_settings
        from agentkanban.services import open_ctx

        return open_ctx(load_settings({"KANBAN_HOME": str(self.home)}))

    def new_board(self, slug: str) -> str:
        self.api("POST", "/api/boards", json={"slug": slug, "name": slug.replace("-", " ").title()})
        return slug


def start_server(home: Path, port: int | None = None, token: str = TOKEN, *,
                 dispatch: bool = False, env: dict[str, str] | None = None) -> Server:
    """Start ``kanban serve`` on ``home`` and wait until /healthz answers (with its dispatcher
    when ``dispatch``; ``env`` is added to the server's environment)."""
    port = port or free_port()
    env = {
        **os.environ,
        "KANBAN_HOME": str(home),
        "KANBAN_TOKEN": token,
        # A home channel for the notification pills; --no-notify means nothing is ever sent.
        "TELEGRAM_BOT_TOKEN": "x",
        "TELEGRAM_HOME_CHANNEL": "123",
        **(env or {}),
    }
    log = home / f"server-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentkanban", "serve", "--host", "127.0.0.1", "--port", str(port),
             *([] if dispatch else ["--no-dispatch"]), "--no-notify"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"kanban serve exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            pytest.fail(f"kanban serve did not answer /healthz:\n{log.read_text()}", pytrace=False)
        time.sleep(0.1)
    return Server(url=url, home=home, env=env, proc=proc, log=log, token=token)


def stop_server(srv: Server) -> None:
    srv.client.close()
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait(timeout=10)


@contextmanager
def served(home: Path, token: str) -> Iterator[Server]:
    """A ``kanban serve`` for the length of a block (a module's fixture); the test process's own
    connections to its database are closed after it."""
    from agentkanban.store import engine as store_engine

    srv = start_server(home, token=token)
    try:
        yield srv
    finally:
        stop_server(srv)
        store_engine.close_all()
