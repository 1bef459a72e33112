"""The reference dashboard (hermes-agent 0.19.0, unmodified) in front of our server, for the browser test.

``hermes_venv()`` installs the pinned release into its own virtual environment under the test cache
(``$KANBAN_TEST_CACHE``, default ``.test-cache/`` at the repository root) once and reuses it; our
package never imports it. ``start_dashboard()`` runs its ``hermes dashboard`` (which serves the shipped
SPA and the kanban plugin's shipped ``dist/``) with the same session token as our server, and
``Proxy`` puts both behind one origin: ``/api/plugins/kanban/*`` (HTTP and WebSocket) goes to
``kanban serve`` exactly as the browser sent it, everything else to the Hermes dashboard.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

HERMES_VERSION = "0.19.0"
KANBAN_PREFIX = "/api/plugins/kanban"
REPO = Path(__file__).resolve().parents[2]
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te",
               "trailer", "content-length", "content-encoding"}


def hermes_venv() -> Path:
    """The cached virtual environment with hermes-agent installed (made on first use, from PyPI)."""
    cache = Path(os.environ.get("KANBAN_TEST_CACHE") or REPO / ".test-cache")
    venv = cache / f"hermes-agent-{HERMES_VERSION}"
    marker = venv / ".installed"
    if marker.exists():
        return venv
    cache.mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         f"hermes-agent=={HERMES_VERSION}"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"installing hermes-agent=={HERMES_VERSION} failed:\n{done.stderr[-4000:]}",
                    pytrace=False)
    marker.write_text(HERMES_VERSION + "\n")
    return venv


def plugin_dist(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages/plugins/kanban/dashboard/dist/index.js"))
    assert found, "hermes-agent ships no kanban plugin frontend"
    return found[0].parent


class Dashboard:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_dashboard(venv: Path, home: Path, port: int, token: str) -> Dashboard:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KANBAN_", "HERMES_"))}
    env.update({"HERMES_HOME": str(home), "HERMES_DASHBOARD_SESSION_TOKEN": token, "HOME": str(home),
                "NO_COLOR": "1"})
    log = home / "dashboard.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "hermes"), "dashboard", "--host", "127.0.0.1", "--port", str(port),
             "--skip-build", "--no-open"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"hermes dashboard exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return Dashboard(proc, url, log)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            Dashboard(proc, url, log).stop()
            pytest.fail(f"hermes dashboard did not answer:\n{log.read_text()}", pytrace=False)
        time.sleep(0.2)


class Proxy:
    """One origin for the browser: the kanban plugin's API to ``kanban``, the rest to ``hermes``."""

    def __init__(self, port: int, kanban: str, hermes: str, log: Path | None = None) -> None:
        self.port, self.kanban, self.hermes, self.log = port, kanban, hermes, log

    def _upstream(self, path: str) -> str:
        return self.kanban if path.startswith(KANBAN_PREFIX + "/") or path == KANBAN_PREFIX else self.hermes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._ws(scope, receive, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        qs = scope.get("query_string", b"").decode("latin-1")
        url = self._upstream(scope["path"]) + path + (f"?{qs}" if qs else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in HOP_HEADERS]
        async with httpx.AsyncClient(timeout=120) as client:
            r = await client.request(scope["method"], url, headers=headers, content=body)
        if scope["path"].startswith(KANBAN_PREFIX):
            self._log_call(scope["method"], scope["path"], r.status_code)
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.multi_items()
               if k.lower() not in HOP_HEADERS]
        out.append((b"content-length", str(len(r.content)).encode()))
        await send({"type": "http.response.start", "status": r.status_code, "headers": out})
        await send({"type": "http.response.body", "body": r.content})

    async def _ws(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import websockets

        qs = scope.get("query_string", b"").decode("latin-1")
        base = self._upstream(scope["path"]).replace("http://", "ws://")
        url = base + scope["path"] + (f"?{qs}" if qs else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() in {"cookie", "origin", "x-hermes-session-token"}]
        msg = await receive()
        assert msg["type"] == "websocket.connect"
        try:
            upstream = await websockets.connect(url, additional_headers=headers)
        except Exception:
            await send({"type": "websocket.close", "code": 1011})
            return
        await send({"type": "websocket.accept"})

        async def down() -> None:
            try:
                async for data in upstream:
                    key = "text" if isinstance(data, str) else "bytes"
                    await send({"type": "websocket.send", key: data})
            except Exception:
                pass
            try:
                await send({"type": "websocket.close", "code": upstream.close_code or 1000})
            except Exception:
                pass

        task = asyncio.create_task(down())
        try:
            while True:
                m = await receive()
                if m["type"] == "websocket.disconnect":
                    break
                if m.get("text") is not None:
                    await upstream.send(m["text"])
                elif m.get("bytes") is not None:
                    await upstream.send(m["bytes"])
        finally:
            await upstream.close()
            task.cancel()

    def _log_call(self, method: str, path: str, status: int) -> None:
        if self.log is not None:
            with self.log.open("a") as fh:
                fh.write(f"{method} {path} {status}\n")


class ProxyProcess:
    """The proxy in its own process (uvicorn wants the main thread), started and stopped by the test."""

    def __init__(self, port: int, kanban: str, hermes: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, __file__, str(port), kanban, hermes, str(log)])
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                pytest.fail("the test proxy exited", pytrace=False)
            try:
                httpx.get(self.url + "/__proxy_ready", timeout=2)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("the test proxy did not start", pytrace=False)
                time.sleep(0.1)

    def calls(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every plugin API call so far."""
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            method, path, status = line.split(" ")
            out.append((method, path, int(status)))
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


if __name__ == "__main__":
    import uvicorn

    port, kanban_url, hermes_url, log_path = sys.argv[1:5]
    proxy = Proxy(int(port), kanban_url, hermes_url, Path(log_path))
    uvicorn.run(proxy, host="127.0.0.1", port=int(port), log_level="warning", ws="websockets",
                lifespan="off")
