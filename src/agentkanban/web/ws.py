"""Live events: one hub per process tails the event log and fans batches out to every WebSocket.

The hub is the only reader of the log for live connections: it queries for new events when a
write in this process commits (the store's after-commit listener wakes it at once). For writes
made by other processes (the CLI, workers, another server) it looks at a SQLite file's change
marker (one ``stat``) every ``PEEK_SECONDS`` and queries only when it moved; on PostgreSQL it
queries every ``POLL_SECONDS``. New events go into an in-memory window; each connection only slices
that window with its own cursor and board filter, so an idle connection costs no query. A connection whose ``since`` is older than
the window catches up from the database first, then joins the window at the exact id it reached,
so a client that reconnects with the last ``cursor`` it saw loses nothing and sees nothing twice.

Event ids are handed out in commit order (SQLite serialises writers; on PostgreSQL a transaction
takes one advisory lock just before it writes its events, and keeps it to its commit), so "every id
above the cursor" is a complete answer.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from ..domain.models import Event
from ..errors import KanbanError
from ..services import boards as board_svc
from ..services import events as event_svc
from ..services.base import Ctx
from .deps import dumps

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # query interval when the backend cannot be peeked at (PostgreSQL)
PEEK_SECONDS = 0.02  # how often a SQLite file's change marker is looked at
FETCH_LIMIT = 1000
CATCHUP_LIMIT = 500
WINDOW = 20_000  # events kept in memory for connections to slice
WS_POLICY_VIOLATION = 1008


def event_json(e: Event) -> dict[str, Any]:
    return e.to_dict()


class EventHub:
    def __init__(self, ctx: Ctx, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.ids: list[int] = []
        self.items: list[dict[str, Any]] = []
        self.floor = 0  # every event with floor < id <= head is in the window
        self.head = 0
        self.subscribers = 0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Fresh primitives for this loop (an app may be served by more than one loop in a row).
        self._changed, self._wake, self._ready = asyncio.Event(), asyncio.Event(), False
        self.ctx.store.add_listener(self._on_commit)
        self._task = asyncio.create_task(self._run(), name="kanban-event-hub")

    async def stop(self) -> None:
        self.ctx.store.remove_listener(self._on_commit)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _on_commit(self, events: list[Event]) -> None:
        """Runs in the committing thread, after commit: only wake the hub's loop."""
        loop = self._loop
        if loop is not None and self.subscribers:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(self._wake.set)

    # -- the one poller --------------------------------------------------------------------------
    async def _run(self) -> None:
        marker: tuple[int, ...] | None = None
        last_query = 0.0
        loop = asyncio.get_running_loop()
        # A SQLite file says cheaply (one stat) when another process may have committed, so it is
        # looked at often; other backends are asked with a query every poll_seconds.
        can_peek = self.ctx.store.change_marker() is not None
        while True:
            fast = can_peek and self.subscribers > 0
            try:
                await asyncio.wait_for(self._wake.wait(), PEEK_SECONDS if fast else self.poll_seconds)
                woken = True
            except TimeoutError:
                woken = False
            self._wake.clear()
            if not self.subscribers:
                self._ready = False
                continue
            now = loop.time()
            current = self.ctx.store.change_marker()
            due = (woken or current is None or current != marker or not self._ready
                   or now - last_query >= self.poll_seconds * 5)
            if not due:
                continue
            marker, last_query = current, now  # taken before the query: later commits change it again
            try:
                await self._fetch()
            except Exception:  # a database hiccup must not end live updates for everyone
                log.warning("event hub: reading new events failed; retrying", exc_info=True)
                marker = None
                await asyncio.sleep(self.poll_seconds)

    async def _fetch(self) -> None:
        if not self._ready:  # (re)start the window at the present; older ids come from catch-up
            latest = await asyncio.to_thread(event_svc.latest_id, self.ctx)
            self.ids, self.items = [], []
            self.floor = self.head = latest
            self._ready = True
            self._notify()
        while True:
            batch = await asyncio.to_thread(event_svc.since, self.ctx, self.head, limit=FETCH_LIMIT)
            if not batch:
                return
            for e in batch:
                self.ids.append(e.id)
                self.items.append(event_json(e))
            self.head = batch[-1].id
            if len(self.ids) > WINDOW:
                cut = len(self.ids) - WINDOW // 2
                self.floor = self.ids[cut - 1]
                del self.ids[:cut]
                del self.items[:cut]
            self._notify()
            if len(batch) < FETCH_LIMIT:
                return

    def _notify(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    # -- what connections use --------------------------------------------------------------------
    def changed(self) -> asyncio.Event:
        return self._changed

    def ready(self) -> bool:
        return self._ready

    def slice(self, pos: int, board: str | None) -> tuple[int, list[dict[str, Any]]]:
        """Events in the window above ``pos`` (for ``board``); the new position is the head, or
        ``pos`` itself when the client is ahead of the hub (it read a newer id elsewhere, e.g.
        ``latest_event_id`` from the board, before the hub fetched it): a cursor never moves back."""
        start = bisect.bisect_right(self.ids, pos)
        items = self.items[start:]
        if board is not None:
            items = [e for e in items if e["board"] == board]
        return max(self.head, pos), items

    def wake(self) -> None:
        self._wake.set()


async def serve_connection(ws: WebSocket, hub: EventHub, since: int, board: str | None) -> None:
    """Send ``{"events": [...], "cursor": N}`` batches in id order until the client leaves."""
    hub.subscribers += 1
    hub.wake()
    receiver = asyncio.create_task(_drain(ws))
    try:
        sender = asyncio.create_task(_send_loop(ws, hub, since, board))
        done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        for t in (receiver, sender):
            if t not in done:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        for t in done:
            exc = t.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                log.debug("event stream ended: %r", exc)
    finally:
        hub.subscribers -= 1


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends; returns when it disconnects."""
    while True:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            return


async def _send_loop(ws: WebSocket, hub: EventHub, since: int, board: str | None) -> None:
    pos = max(0, since)
    while True:
        changed = hub.changed()
        if not hub.ready():
            await changed.wait()
            continue
        if pos < hub.floor:
            pos = await _catch_up(ws, hub, pos, board)
            continue
        pos, items = hub.slice(pos, board)
        if items:
            await ws.send_text(dumps({"events": items, "cursor": items[-1]["id"]}).decode())
            continue
        await changed.wait()


async def _catch_up(ws: WebSocket, hub: EventHub, pos: int, board: str | None) -> int:
    """Send one page of events older than the hub's window straight from the database."""
    reached = hub.head  # committed and in the window (or older): safe to jump to if nothing newer
    events = await asyncio.to_thread(event_svc.since, hub.ctx, pos, board=board, limit=CATCHUP_LIMIT)
    if events:
        await ws.send_text(dumps({"events": [event_json(e) for e in events],
                                  "cursor": events[-1].id}).decode())
    if len(events) == CATCHUP_LIMIT:
        return events[-1].id
    return max(events[-1].id if events else pos, reached)


ALL_BOARDS = "*"


def parse_ws_board(ctx: Ctx, raw: str | None) -> str | None:
    """``?board=`` on the WebSocket, pinned for the connection: omitted means the current board,
    ``*`` every board. Raises ValidationError or NotFound like the HTTP routes."""
    if raw == ALL_BOARDS:
        return None
    return board_svc.resolve(ctx, raw or None)


__all__ = ["EventHub", "KanbanError", "WS_POLICY_VIOLATION", "parse_ws_board", "serve_connection"]
