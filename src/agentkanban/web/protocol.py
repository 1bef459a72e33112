"""The HTTP protocol ``kanban serve`` runs: uvicorn's, plus a deadline for request headers.

uvicorn times out idle keep-alive connections but not a client that connects and then sends its
headers slowly or never (slowloris): a thousand of those hold a thousand file descriptors and the
server stops answering, ``/healthz`` included. Here every request must finish its headers within
``header_timeout`` seconds of the connection opening (or of its first byte, on a kept-alive
connection), or the connection is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with this deadline."""
    attrs: dict[str, Any] = {"header_timeout": seconds}
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), attrs)
