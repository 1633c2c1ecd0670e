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
