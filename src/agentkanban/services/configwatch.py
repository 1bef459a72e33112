"""config.yaml taking effect without a restart.

A :class:`ConfigWatch` looks at the file (its bytes; it is small) when asked: ``kanban serve`` and
``kanban daemon`` ask about once a second, on SIGHUP, and before each dispatcher pass. A changed
file is validated exactly as at start-up (the same errors); a valid one replaces the sections in
:data:`RELOADABLE` of ``ctx.settings`` at once, for every loop sharing that context. A broken one
is refused: the error is logged, kept in :meth:`ConfigWatch.status` (``/healthz``, the
dashboard's banner), and the last good configuration stays in force.

What the process was started with stays: the home, the database, the token, the ``serve``
section (address, limits) and ``attachments`` need a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from ..config import Settings, load_settings
from ..errors import KanbanError
from .base import Ctx

log = logging.getLogger("agentkanban.config")

RELOADABLE = ("profiles", "dispatch", "notify", "dashboard", "budgets", "providers", "prices")


def _changed(old: Settings, new: Settings) -> list[str]:
    return [k for k in RELOADABLE if getattr(old, k) != getattr(new, k)]


class ConfigWatch:
    """Reload ``ctx.settings`` from config.yaml when the file changes. ``adjust`` is applied to
    every configuration loaded (a command-line override, such as ``daemon --interval``)."""

    def __init__(self, ctx: Ctx, *, adjust: Callable[[Settings], Settings] | None = None) -> None:
        self.ctx = ctx
        self.adjust = adjust
        self.path = ctx.settings.home / "config.yaml"
        self._seen = self._read()  # the settings in force were read from this
        self._lock = threading.Lock()
        self._listeners: list[Callable[[list[str]], None]] = []
        self.loaded_at = ctx.now()
        self.error: str | None = None
        self.error_at: float | None = None

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    def on_reload(self, fn: Callable[[list[str]], None]) -> None:
        """Call ``fn(changed sections)`` after each configuration put in force."""
        self._listeners.append(fn)

    def check(self, *, force: bool = False) -> bool:
        """Reload when the file changed (or always, with ``force``). True when a new
        configuration was put in force."""
        with self._lock:
            text = self._read()
            if text == self._seen and not force:
                return False
            self._seen = text
            try:
                fresh = load_settings({**os.environ, "KANBAN_HOME": str(self.ctx.settings.home)})
            except KanbanError as err:
                self.error, self.error_at = str(err), self.ctx.now()
                log.error("%s was not reloaded: %s; the configuration loaded before stays in force",
                          self.path, err)
                return False
            if self.adjust is not None:
                fresh = self.adjust(fresh)
            old = self.ctx.settings
            self.ctx.settings = dataclasses.replace(
                old, **{k: getattr(fresh, k) for k in RELOADABLE})
            changed = _changed(old, self.ctx.settings)
            self.loaded_at, self.error, self.error_at = self.ctx.now(), None, None
        log.warning("%s reloaded%s", self.path,
                    f" ({', '.join(changed)} changed)" if changed else " (nothing that applies changed)")
        for fn in self._listeners:
            fn(changed)
        return True

    def status(self) -> dict[str, Any]:
        """For ``/healthz``: ``{"ok", "loaded_at", "error", "error_at"}``."""
        return {"ok": self.error is None, "loaded_at": int(self.loaded_at), "error": self.error,
                "error_at": int(self.error_at) if self.error_at else None}


class WatchLoop:
    """Ask a :class:`ConfigWatch` every ``seconds``, and at once when :meth:`poke` is called
    (SIGHUP), until :meth:`stop`."""

    def __init__(self, watch: ConfigWatch, seconds: float = 1.0) -> None:
        self.watch = watch
        self.seconds = seconds
        self._stop = threading.Event()
        self._poke = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            forced = self._poke.wait(self.seconds)
            self._poke.clear()
            if self._stop.is_set():
                return
            try:
                self.watch.check(force=forced)
            except Exception:  # never let the watch die: the next change is still picked up
                log.exception("checking %s failed", self.watch.path)

    def poke(self) -> None:
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
