"""``kanban --server URL mcp``: the agent's stdio MCP connection, relayed to ``kanban serve``'s
``/mcp``. The server's tools decide everything; this process only carries messages.

Each JSON-RPC line from stdin is posted as it is (a worker's run token, or the operator's token,
as the bearer); the answer, JSON or an event stream, goes back to stdout one message a line.
One change is made on the way: a ``kanban_attach`` call naming a ``path`` sends the file's bytes
instead, since the server would read its own files under that name (it refuses ``path``).

The relay keeps what the server hands out (a session id, the negotiated protocol version) and,
when the server forgets the session (a restart), opens a new one with the client's own
``initialize`` before sending the call again. A server out of reach is tried again with backoff
until ``deadline_seconds``; then a request gets a JSON-RPC error saying nothing was changed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

from ..httpclient import tls_context
from .shape import fail

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
TIMEOUT_SECONDS = 120.0
UNREACHABLE = -32000  # JSON-RPC "server error": the board did not answer
REFUSED = -32001  # the board answered with an HTTP error (a wrong token, an ended attempt)


class Relay:
    def __init__(self, url: str, headers: dict[str, str], *, deadline_seconds: float = 60.0) -> None:
        self.url = url.rstrip("/") + "/mcp"
        self.headers = {**headers, "Accept": "application/json, text/event-stream"}
        self.deadline_seconds = deadline_seconds
        self.session: str | None = None
        self.initialize: dict[str, Any] | None = None
        self.client = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=tls_context())

    def run(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        try:
            for line in stdin:
                if line.strip():
                    for message in self.handle(line):
                        stdout.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
                        stdout.flush()
        finally:
            self.client.close()

    def handle(self, line: bytes) -> list[dict[str, Any]]:
        """The messages that answer one line from the client (none for a notification)."""
        try:
            message = json.loads(line)
        except ValueError:
            return [_error(None, -32700, "parse error: each line must be one JSON-RPC message")]
        if not isinstance(message, dict):
            return [_error(None, -32600, "send one JSON-RPC message per line, not a batch")]
        if message.get("method") == "initialize":
            self.initialize, self.session = message, None
        local = _attach_path_to_bytes(message)
        if local is not None:
            return [local]
        return self._send(message, retry_session=True)

    def _send(self, message: dict[str, Any], *, retry_session: bool) -> list[dict[str, Any]]:
        rid = message.get("id")
        try:
            resp = self._post(message)
        except httpx.HTTPError as err:
            return [] if rid is None else [_error(
                rid, UNREACHABLE, f"the board's server at {self.url} is unreachable "
                                  f"({type(err).__name__}); nothing was changed, retry later")]
        try:
            if resp.status_code >= 400:
                lost = resp.status_code == 404 and self.session and retry_session
                refused = _detail(resp)
                if lost and self._reopen():
                    return self._send(message, retry_session=False)
                return [] if rid is None else [_error(rid, REFUSED, refused)]
            if message.get("method") == "initialize":
                self.session = resp.headers.get(SESSION_HEADER) or None
            answers = list(_messages(resp))
        finally:
            resp.close()
        for answer in answers:
            version = (answer.get("result") or {}).get("protocolVersion") \
                if answer.get("id") == rid and message.get("method") == "initialize" else None
            if isinstance(version, str):
                self.headers[VERSION_HEADER] = version
        return answers

    def _post(self, message: dict[str, Any]) -> httpx.Response:
        """Post one message, tried again while the server is out of reach (until the deadline)."""
        headers = {**self.headers, **({SESSION_HEADER: self.session} if self.session else {})}
        delay, give_up = 0.2, time.monotonic() + self.deadline_seconds
        while True:
            try:
                request = self.client.build_request("POST", self.url, json=message, headers=headers)
                return self.client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if time.monotonic() + delay > give_up:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _reopen(self) -> bool:
        """A new session after the server forgot ours, opened with the client's own handshake."""
        if self.initialize is None:
            return False
        self.session = None
        answers = self._send(self.initialize, retry_session=False)
        if not answers or "error" in answers[0]:
            return False
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"}, retry_session=False)
        return True


def _attach_path_to_bytes(message: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a ``kanban_attach`` call's ``path`` into ``content_base64`` in place; a file that
    cannot be read is answered here (the error the server would give for a missing file)."""
    params = message.get("params")
    if message.get("method") != "tools/call" or not isinstance(params, dict) \
            or params.get("name") != "kanban_attach":
        return None
    args = params.get("arguments")
    if not isinstance(args, dict) or not isinstance(args.get("path"), str):
        return None
    path = args.pop("path")
    try:
        args["content_base64"] = base64.b64encode(Path(path).expanduser().read_bytes()).decode()
    except OSError:
        result = fail("ValidationError", f"no file at {path!r}", hint="fix the arguments and call again")
        return {"jsonrpc": "2.0", "id": message.get("id"),
                "result": result.model_dump(mode="json", by_alias=True, exclude_none=True)}
    return None


def _messages(resp: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON-RPC messages in a response: a JSON body, or the data of each server-sent event."""
    if resp.status_code == 202:
        return
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        data: list[str] = []
        for line in resp.iter_lines():
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif not line and data:
                yield from _decoded("\n".join(data))
                data = []
        if data:
            yield from _decoded("\n".join(data))
        return
    yield from _decoded(resp.read().decode() or "null")


def _decoded(text: str) -> Iterator[dict[str, Any]]:
    try:
        value = json.loads(text)
    except ValueError:
        return
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            yield item


def _detail(resp: httpx.Response) -> str:
    try:
        body = json.loads(resp.read())
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) and isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = body["error"].get("message")
    return f"the board refused the call (HTTP {resp.status_code}): {detail or resp.reason_phrase}"


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
