"""The runner protocol over HTTP: one method per route, one exception per kind of answer.

Every request carries the runner token as ``Authorization: Bearer``; nothing here logs it (and
httpx's own request log is kept quiet by the command).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import httpx

from .. import __version__
from ..httpclient import tls_context

CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0  # every call but the long poll, which waits its own time plus this


class RunnerError(Exception):
    """The server answered with an error (``status``), or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Unavailable(RunnerError):
    """Not reached, or a 5xx/429: retried with backoff, workers keep running."""


class TokenRefused(RunnerError):
    """401: the token is wrong or was revoked. The runner stops."""


class NotAllowed(RunnerError):
    """403: this token may not run that profile."""


class Gone(RunnerError):
    """409: the attempt is no longer this runner's (reclaimed, reassigned, ended)."""


class TooLarge(RunnerError):
    """413: a log chunk over the server's limit."""


class Refused(RunnerError):
    """Any other 4xx (a malformed request): not retried."""


@dataclass(frozen=True)
class Registration:
    name: str
    labels: list[str]
    profiles: list[str]
    capacity: int
    lease_seconds: float
    poll_seconds: float
    max_log_chunk: int


def _error(resp: httpx.Response) -> RunnerError:
    try:
        body = resp.json()
        detail = str(body.get("detail") or body) if isinstance(body, dict) else str(body)
    except ValueError:
        detail = resp.text[:200] or resp.reason_phrase
    message = f"{resp.status_code} {detail}"
    code = resp.status_code
    if code == 401:
        return TokenRefused(message, code)
    if code == 403:
        return NotAllowed(message, code)
    if code == 409:
        return Gone(message, code)
    if code == 413:
        return TooLarge(message, code)
    if code == 429 or code >= 500:
        return Unavailable(message, code)
    return Refused(message, code)


class Client:
    """One HTTP connection pool; each thread of the runner has its own."""

    def __init__(self, server: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.server = server
        self._http = httpx.Client(
            base_url=server, transport=transport, verify=tls_context(),
            headers={"Authorization": f"Bearer {token}",
                     "User-Agent": f"agentkanban-runner/{__version__}"},
            timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT))

    def close(self) -> None:
        self._http.close()

    def _call(self, path: str, *, json: Any = None, content: bytes | None = None,
              timeout: float | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "application/octet-stream"}
        else:
            kwargs["json"] = {} if json is None else json
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        try:
            resp = self._http.post(path, **kwargs)
        except httpx.HTTPError as err:  # refused, reset, timed out, DNS, TLS
            raise Unavailable(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__) from None
        if resp.status_code >= 400:
            raise _error(resp)
        try:
            data = resp.json()
        except ValueError:
            raise Unavailable(f"{resp.status_code} answer is not JSON (a proxy in the way?)",
                              resp.status_code) from None
        return data if isinstance(data, dict) else {}

    def register(self, *, labels: list[str], profiles: list[str], capacity: int) -> Registration:
        data = self._call("/api/runners/register", json={
            "labels": labels, "profiles": profiles, "capacity": capacity, "version": __version__,
            "host": platform.node()})
        runner = data.get("runner") or {}
        return Registration(
            name=str(runner.get("name") or "?"), labels=list(runner.get("labels") or labels),
            profiles=list(runner.get("profiles") or profiles),
            capacity=int(runner.get("capacity") or capacity),
            lease_seconds=float(data.get("lease_seconds") or 60.0),
            poll_seconds=float(data.get("poll_seconds") or 25.0),
            max_log_chunk=int(data.get("max_log_chunk") or 256 * 1024))

    def claim(self, slots: int, wait: float) -> list[dict[str, Any]]:
        data = self._call("/api/runners/claim", json={"slots": slots, "wait": wait},
                          timeout=wait + REQUEST_TIMEOUT)
        work = data.get("work") or []
        return [w for w in work if isinstance(w, dict)]

    def extend(self, run_id: int) -> Any:
        return self._call(f"/api/runners/runs/{run_id}/lease").get("lease_expires")

    def log(self, run_id: int, chunk: bytes) -> None:
        self._call(f"/api/runners/runs/{run_id}/log", content=chunk)

    def exit(self, run_id: int, *, exit_code: int | None, timed_out: bool,
             spawn_error: str | None) -> dict[str, Any]:
        return self._call(f"/api/runners/runs/{run_id}/exit", json={
            "exit_code": exit_code, "timed_out": timed_out, "spawn_error": spawn_error})
