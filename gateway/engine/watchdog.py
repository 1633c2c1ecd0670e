"""One thread that interrupts queries past their deadline.

DuckDB has no statement timeout; a query is stopped by calling ``interrupt()`` on its
connection from another thread. Starting a ``threading.Timer`` for every query costs a thread
start per query (milliseconds under load); this watchdog keeps one daemon thread and a heap of
deadlines instead. Like a thread pool it is process infrastructure: one per process, started
on first use.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

COMPACT_AT = 1024  # cancelled deadlines kept in the heap before it is rebuilt without them


class Watchdog:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, callback: Callable[[], None]) -> int:
        """Call ``callback`` (in the watchdog thread) after ``seconds`` unless cancelled first."""
        with self._condition:
            token = next(self._ids)
            self._callbacks[token] = callback
            deadline = time.monotonic() + seconds
            earliest = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, token))
            if len(self._heap) > COMPACT_AT and len(self._heap) > 2 * len(self._callbacks):
                self._heap = [entry for entry in self._heap if entry[1] in self._callbacks]
                heapq.heapify(self._heap)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dataadgang-watchdog", daemon=True)
                self._thread.start()
            if earliest:
                # the thread sleeps until the earliest deadline; a later one needs no wake-up (and
                # waking it on every query costs a thread switch each)
                self._condition.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._condition:
            self._callbacks.pop(token, None)  # its heap entry is skipped when it comes up

    def _run(self) -> None:
        while True:
            with self._condition:
                while True:
                    while self._heap and self._heap[0][1] not in self._callbacks:
                        heapq.heappop(self._heap)  # cancelled
                    if not self._heap:
                        self._condition.wait()
                        continue
                    deadline, token = self._heap[0]
                    left = deadline - time.monotonic()
                    if left <= 0:
                        heapq.heappop(self._heap)
                        callback = self._callbacks.pop(token)
                        break
                    self._condition.wait(timeout=left)
            try:
                callback()
            except Exception:  # noqa: BLE001 - a failed interrupt must not stop the watchdog
                pass


WATCHDOG = Watchdog()
