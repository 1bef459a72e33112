"""The collector pause around big read models: nested and concurrent pauses, and restoring the
collector's own state afterwards."""

from __future__ import annotations

import gc
import threading

from agentkanban import gcpause


def test_nested_pauses_enable_the_collector_when_the_last_ends() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_still_ends_the_pause() -> None:
    try:
        with gcpause.paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_collector_disabled_beforehand_stays_disabled() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gcpause.paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the other thread's pause ended while this one runs

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(5)
    with gcpause.paused():
        pass
    second_done.set()
    t.join(5)
    assert seen == [False] and gc.isenabled()
