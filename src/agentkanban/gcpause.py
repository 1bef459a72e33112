"""Pause the cyclic garbage collector while a large read model is built.

Building a 10,000-card board allocates ~50,000 small dicts and lists. Each allocation burst
triggers collections, and the full ones walk the whole heap: about a third of the build time
went to collections that could find nothing, since these structures hold no cycles. Nested and
concurrent pauses (server threads) are counted; the collector is enabled again when the last
one ends, and only if it was enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
