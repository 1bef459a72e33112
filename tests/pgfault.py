"""Real faults between the board and PostgreSQL, at the one moment that matters: COMMIT.

- :func:`terminate_at_next_commit` has the server end the session (``pg_terminate_backend``) just
  before the client sends COMMIT: the transaction is aborted and the client loses its connection.
- :class:`CuttingProxy` is a TCP relay on 127.0.0.1 in front of the server that, once armed, cuts
  the first COMMIT of a write transaction: either after the server answered it (the transaction
  committed, the client never hears so) or before it reached the server (it never committed),
  and can then refuse new connections (the client cannot ask what happened).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

READY_FOR_QUERY = b"Z\x00\x00\x00\x05"
WRITE_MARK = b"pg_current_xact_id_if_assigned"  # read just before a write transaction's COMMIT


def admin_dsn(url: str) -> str:
    u = make_url(url)
    return f"host={u.host} port={u.port} user={u.username} dbname={u.database}"


def terminate_at_next_commit(engine: Engine, url: str) -> list[int]:
    """The next COMMIT of a write transaction on ``engine`` finds its session terminated by the
    server. Returns the list of terminated backend pids (filled when it happened)."""
    done: list[int] = []

    def on_commit(conn: Any) -> None:
        if done or conn.get_execution_options().get("kanban_readonly"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(admin_dsn(url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        done.append(pid)  # (a listener cannot be removed while it runs; this one is spent)

    event.listen(engine, "commit", on_commit)
    return done


class CuttingProxy:
    def __init__(self, url: str) -> None:
        u = make_url(url)
        self.target = (u.host or "127.0.0.1", int(u.port or 5432))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = str(u.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False))
        self.mode: str | None = None  # "after" or "before": how the next write COMMIT is cut
        self.refuse_after_cut = False
        self.refusing = False
        self.cuts = 0
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, mode: str, *, refuse_after: bool = False) -> None:
        with self._lock:
            self.mode, self.refuse_after_cut = mode, refuse_after

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(self.target)
            _Pair(self, client, server)


class _Pair:
    def __init__(self, proxy: CuttingProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy, self.client, self.server = proxy, client, server
        self.in_write = False
        self.swallow = False
        self.answered = threading.Event()
        threading.Thread(target=self._up, daemon=True).start()
        threading.Thread(target=self._down, daemon=True).start()

    def _close(self) -> None:
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _up(self) -> None:  # client -> server
        p = self.proxy
        try:
            while data := self.client.recv(65536):
                if p.mode and WRITE_MARK in data:
                    self.in_write = True
                elif self.in_write and b"COMMIT" in data:
                    with p._lock:
                        mode, p.mode = p.mode, None
                    self.in_write = False
                    if mode is not None:
                        self._cut(mode, data)
                        return
                self.server.sendall(data)
        except OSError:
            pass
        self._close()

    def _cut(self, mode: str, data: bytes) -> None:
        p = self.proxy
        if mode == "after":
            self.swallow = True
            self.server.sendall(data)
            self.answered.wait(30)  # the server has committed and said so; the client never hears it
        if p.refuse_after_cut:
            p.refusing = True
        p.cuts += 1
        self._close()

    def _down(self) -> None:  # server -> client
        try:
            while data := self.server.recv(65536):
                if self.swallow:
                    if READY_FOR_QUERY in data:
                        self.answered.set()
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        self.answered.set()
        self._close()
