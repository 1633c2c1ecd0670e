"""Cell sets of immutable database versions, kept for the next identical query.

A database version never changes once built (a load makes a new version and swaps), so a
cell set computed for (version, query, the caller's view) stays right until that version is
gone. The key names the version itself, never just the database name, so a swap can never
serve the old version's answer as the new one's. Access is decided before the cache is asked,
on every request: the cache only saves the engine's work, never a check.

Bounded by the number of cells held (LRU), so a few huge results cannot crowd out memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.engine import Connection

from gateway.engine.cellset import CellSet

_T = TypeVar("_T")

# set by gateway.registry on each connection it hands out: (name, url, schema, version)
VERSION_INFO_KEY = "dataadgang.database_version"


class WeightedLRU:
    """A thread-safe LRU bounded by entry count and by total weight (cells, members ...).

    ``compute`` runs outside the lock, so other queries go on meanwhile; errors are not kept;
    an answer heavier than the whole bound is returned but not kept.
    """

    def __init__(self, *, max_entries: int, max_weight: int) -> None:
        if max_entries < 0 or max_weight < 0:
            raise ValueError("cache bounds must not be negative")
        self.max_entries = max_entries
        self.max_weight = max_weight
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def peek(self, key: Hashable) -> _T | None:
        """The kept answer for ``key`` if there is one (never computes: safe on the event loop)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]  # type: ignore[no-any-return]

    def get_or_compute(self, key: Hashable, compute: Callable[[], _T], *, weight: Callable[[_T], int] | None = None) -> _T:
        """The kept answer for ``key``, or ``compute()`` kept under it; ``weight`` defaults to 1."""
        if self.max_entries == 0 or self.max_weight == 0:
            return compute()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]  # type: ignore[return-value]
            self.misses += 1
        value = compute()
        size = max(1, weight(value)) if weight is not None else 1
        if size > self.max_weight:
            return value
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, size)
                self._weight += size
            while len(self._entries) > self.max_entries or self._weight > self.max_weight:
                _key, (_value, old) = self._entries.popitem(last=False)
                self._weight -= old
        return value

    @property
    def weight(self) -> int:
        with self._lock:
            return self._weight

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class ResultCache(WeightedLRU):
    """Whole cell sets, bounded by the cells they hold (0 turns the cache off)."""

    def __init__(self, max_cells: int) -> None:
        super().__init__(max_entries=max(1, max_cells), max_weight=max_cells)

    def get_or_compute(self, key: Hashable, compute: Callable[[], CellSet]) -> CellSet:  # type: ignore[override]
        return super().get_or_compute(key, compute, weight=lambda result: len(result.cells))

    @property
    def cells(self) -> int:
        return self.weight


class VersionMemo(WeightedLRU):
    """Small answers about one database version (which members lie on an axis level, which keys
    exist), reused by later plans. Keys must start with the version's identity."""

    def __init__(self, max_entries: int = 4096, *, max_weight: int = 1_000_000) -> None:
        super().__init__(max_entries=max_entries, max_weight=max_weight)


class EngineCache:
    """What one gateway process remembers between queries; made once, passed down explicitly."""

    def __init__(self, *, result_cells: int = 2_000_000, memo_entries: int = 4096) -> None:
        self.results = ResultCache(result_cells)
        self.memo = VersionMemo(memo_entries)


def version_key(connection: Connection) -> Hashable | None:
    """The identity of the database version a connection reads, as the registry recorded it.

    None for connections the registry did not hand out (then nothing is cached).
    """
    return connection.info.get(VERSION_INFO_KEY)
