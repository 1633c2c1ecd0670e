"""Fingerprint → principal, with a per-process cache that revocation empties at once.

Every lookup first asks the source for its ``revision`` (at most once per
``min_check_interval`` seconds; default 0 = every request). When the number moved, the
revoked set is reloaded and the principal cache dropped, so a revocation or suspension made
by any process is refused on the very next request, on kept-alive connections and resumed
TLS sessions alike: the check is per request, not per handshake.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.identity.refusal import IdentityRefused, RefusalReason
from gateway.identity.source import IdentitySource
from gateway.principal import Principal


@dataclass(frozen=True)
class _Snapshot:
    """What the source said at one revision. Replaced whole, never edited across revisions."""

    revision: int
    revoked: frozenset[str]
    principals: dict[str, Principal | None] = field(default_factory=dict)  # this revision's lookups


class IdentityResolver:
    """Thread-safe: the middleware may call it from worker threads when the source blocks."""

    def __init__(
        self,
        source: IdentitySource,
        *,
        min_check_interval: float = 0.0,
        max_cached: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_check_interval < 0:
            raise ValueError("min_check_interval must be >= 0 seconds")
        self._source = source
        self._min_check_interval = min_check_interval
        self._max_cached = max_cached
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._checked_at = float("-inf")

    def resolve(self, fingerprint: str) -> Principal:
        """The active principal for this leaf, or :class:`IdentityRefused` (revoked / unknown)."""
        snapshot = self._current()
        if fingerprint in snapshot.revoked:
            raise IdentityRefused(RefusalReason.REVOKED, fingerprint=fingerprint)
        try:
            principal = snapshot.principals[fingerprint]
        except KeyError:
            principal = self._source.principal_for(fingerprint)
            if len(snapshot.principals) >= self._max_cached:
                snapshot.principals.clear()  # bounded: a flood of distinct certs cannot grow memory
            snapshot.principals[fingerprint] = principal
        if principal is None:
            raise IdentityRefused(RefusalReason.UNKNOWN_OR_INACTIVE, fingerprint=fingerprint)
        return principal

    @property
    def revision(self) -> int | None:
        """The store revision the last check saw: a key for caches of anything the revision covers."""
        snapshot = self._snapshot
        return None if snapshot is None else snapshot.revision

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        now = self._clock()
        if snapshot is not None and now - self._checked_at < self._min_check_interval:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and now - self._checked_at < self._min_check_interval:
                return snapshot  # another thread refreshed while we waited
            # Read the revision *before* the data: a change racing with the reload then shows
            # up as a newer revision next time, so we can over-refresh but never under-refresh.
            revision = self._source.revision()
            if snapshot is None or revision != snapshot.revision:
                snapshot = _Snapshot(revision=revision, revoked=self._source.revoked_fingerprints())
                self._snapshot = snapshot
            self._checked_at = now
            return snapshot
