"""The watchdog calls back after the deadline, never for a cancelled watch, from one thread."""

from __future__ import annotations

import threading
import time

from gateway.engine.watchdog import Watchdog


def test_a_watch_fires_after_its_deadline_and_a_cancelled_one_never() -> None:
    watchdog = Watchdog()
    fired: list[str] = []
    done = threading.Event()
    watchdog.watch(0.05, lambda: fired.append("late"))
    cancelled = watchdog.watch(0.02, lambda: fired.append("cancelled"))
    watchdog.watch(0.08, done.set)
    watchdog.cancel(cancelled)
    started = time.monotonic()
    assert done.wait(2)
    assert fired == ["late"]
    assert time.monotonic() - started >= 0.07


def test_deadlines_fire_in_order_whatever_the_order_of_watching() -> None:
    watchdog = Watchdog()
    order: list[int] = []
    done = threading.Event()
    for n, seconds in ((3, 0.09), (1, 0.03), (2, 0.06)):
        watchdog.watch(seconds, lambda n=n: order.append(n))  # type: ignore[misc]
    watchdog.watch(0.12, done.set)
    assert done.wait(2)
    assert order == [1, 2, 3]


def test_many_watches_use_one_thread() -> None:
    watchdog = Watchdog()
    before = threading.active_count()
    tokens = [watchdog.watch(60, lambda: None) for _ in range(200)]
    assert threading.active_count() <= before + 1
    for token in tokens:
        watchdog.cancel(token)


def test_a_failing_callback_does_not_stop_later_ones() -> None:
    watchdog = Watchdog()
    done = threading.Event()

    def boom() -> None:
        raise RuntimeError("interrupt failed")

    watchdog.watch(0.01, boom)
    watchdog.watch(0.03, done.set)
    assert done.wait(2)


def test_cancelled_watches_do_not_pile_up_while_a_long_deadline_waits() -> None:
    """Queries watch with a long timeout and cancel when done: the heap is rebuilt without the
    cancelled ones, so it stays bounded by the live watches, and a live one still fires."""
    from gateway.engine.watchdog import COMPACT_AT

    watchdog = Watchdog()
    done = threading.Event()
    watchdog.watch(0.2, done.set)
    for _ in range(5 * COMPACT_AT):
        watchdog.cancel(watchdog.watch(60, lambda: None))
    assert len(watchdog._heap) <= COMPACT_AT + 1
    assert done.wait(2)


def test_a_later_deadline_fires_without_waking_the_thread_for_it() -> None:
    watchdog = Watchdog()
    order: list[str] = []
    done = threading.Event()
    watchdog.watch(0.03, lambda: order.append("first"))
    watchdog.watch(0.06, lambda: order.append("second"))  # later than the earliest: no notify
    watchdog.watch(0.09, done.set)
    assert done.wait(2)
    assert order == ["first", "second"]
