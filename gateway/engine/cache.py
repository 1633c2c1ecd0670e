"""Cell sets of immutable database versions, kept for the next identical query.

A database version never changes once built (a load makes a new version and swaps), so a
cell set computed for (version, query, individual access) stays right until that version is
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


class ResultCache:
    def __init__(self, max_cells: int) -> None:
        if max_cells < 0:
            raise ValueError("max_cells must not be negative")
        self.max_cells = max_cells
        self._entries: OrderedDict[Hashable, CellSet] = OrderedDict()
        self._cells = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], CellSet]) -> CellSet:
        """The cached cell set for ``key``, or ``compute()`` stored under it (errors are not cached)."""
        if self.max_cells == 0:
            return compute()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        result = compute()  # outside the lock: other queries go on meanwhile
        size = max(1, len(result.cells))
        if size > self.max_cells:
            return result
        with self._lock:
            if key not in self._entries:
                self._entries[key] = result
                self._cells += size
            while self._cells > self.max_cells:
                _old_key, old = self._entries.popitem(last=False)
                self._cells -= max(1, len(old.cells))
        return result

    @property
    def cells(self) -> int:
        with self._lock:
            return self._cells

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class VersionMemo:
    """Small answers about one database version (which members lie on an axis level, which keys
    exist), reused by later plans. Keys must start with the version's identity. LRU-bounded."""

    def __init__(self, max_entries: int = 4096, *, max_weight: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight  # e.g. members held in all entries together
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], _T], *, weight: Callable[[_T], int] | None = None) -> _T:
        """``weight`` says how big an answer is (default 1); the memo stays under both bounds."""
        if self.max_entries <= 0:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]  # type: ignore[return-value]
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
