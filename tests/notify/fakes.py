"""Fake Telegram, Discord, Slack and webhook servers: real HTTP on 127.0.0.1, recording everything.

Each server behaves like its platform where the notifier can tell the difference: the URL and
auth it expects, its success shape, its error shapes (Slack's 200 + ``ok: false``, Telegram's
``parameters.retry_after``, Discord's ``retry_after`` body), Discord's ``enforce_nonce``, and a
webhook receiver that drops a repeated idempotency key. ``messages`` is what the platform would
show people; ``requests`` is every request that reached it.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def closed_port_url() -> str:
    """A loopback URL nothing listens on: every request to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakePlatform:
    def __init__(self, kind: str, token: str = "", secret: str = "") -> None:
        self.kind = kind
        self.token = token
        self.secret = secret
        self.requests: list[Request] = []
        self.messages: list[dict[str, Any]] = []
        self.script: list[Reply] = []  # replies used, in order, before normal behaviour
        self.down = False  # answer 503 to everything
        self.unknown_chats: set[str] = set()
        self.stall_next = False  # act on the next request, then hold the reply until released
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._nonces: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePlatform:
        self._thread.start()
        return self

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- behaviour --------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                req = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(length))
                reply, stall = fake._answer(req)
                if stall:
                    fake.stalled.set()
                    fake.release.wait(30)
                body = json.dumps(reply.body).encode() if reply.body is not None else b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client went away (killed mid-request)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _answer(self, req: Request) -> tuple[Reply, bool]:
        with self._lock:
            self.requests.append(req)
            if self.down:
                return Reply(503, {"ok": False, "error": "service_unavailable"}), False
            if self.script:
                return self.script.pop(0), False
            reply = getattr(self, f"_{self.kind}")(req)
            stall, self.stall_next = self.stall_next, False
            return reply, stall

    def _message(self, chat: str, thread: str, text: str, key: str = "") -> str:
        mid = str(1000 + len(self.messages))
        self.messages.append({"id": mid, "chat": chat, "thread": thread, "text": text, "key": key})
        return mid

    def _telegram(self, req: Request) -> Reply:
        if not req.path.startswith("/bot") or not req.path.endswith("/sendMessage"):
            return Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if req.path != f"/bot{self.token}/sendMessage":
            return Reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        b = req.json
        chat = str(b["chat_id"])
        if chat in self.unknown_chats:
            return Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        mid = self._message(chat, str(b.get("message_thread_id") or ""), b["text"])
        return Reply(200, {"ok": True, "result": {"message_id": int(mid), "chat": {"id": chat}}})

    def _discord(self, req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bot {self.token}":
            return Reply(401, {"message": "401: Unauthorized", "code": 0})
        parts = req.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "channels" or parts[2] != "messages":
            return Reply(404, {"message": "404: Not Found", "code": 0})
        channel = parts[1]
        if channel in self.unknown_chats:
            return Reply(404, {"message": "Unknown Channel", "code": 10003})
        b = req.json
        nonce = str(b.get("nonce") or "")
        if b.get("enforce_nonce") and nonce in self._nonces:
            return Reply(200, {"id": self._nonces[nonce], "channel_id": channel, "nonce": nonce})
        mid = self._message(channel, "", b["content"], nonce)
        if nonce:
            self._nonces[nonce] = mid
        return Reply(200, {"id": mid, "channel_id": channel, "nonce": nonce})

    def _slack(self, req: Request) -> Reply:
        if req.path != "/chat.postMessage":
            return Reply(404, None)
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        b = req.json
        if b["channel"] in self.unknown_chats:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        # What people see: Slack shows its three escapes as the characters they stand for.
        text = b["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        mid = self._message(b["channel"], str(b.get("thread_ts") or ""), text)
        return Reply(200, {"ok": True, "channel": b["channel"], "ts": f"1700000000.{mid}"})

    def _webhook(self, req: Request) -> Reply:
        key = req.headers.get("x-kanban-idempotency-key", "")
        if key and key in self._keys:
            return Reply(200, {"id": self._keys[key], "duplicate": True})
        b = req.json
        mid = self._message(b["destination"]["chat_id"], b["destination"]["thread_id"], b["text"], key)
        if key:
            self._keys[key] = mid
        return Reply(200, {"id": mid})
