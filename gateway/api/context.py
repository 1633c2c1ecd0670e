"""Per-request state: who asks, what they touched, and what the audit event will say.

One :class:`RequestContext` is made for each HTTP request and dropped after it; nothing here
outlives the request. Resolvers may run concurrently in the thread pool, so the trail
guards its few fields with a lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.api.session import DataSession
    from gateway.principal import Principal


@dataclass
class RequestTrail:
    """What the request did, gathered while it runs, read once for its audit event."""

    operations: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    cells: int = 0
    denial_reason: str | None = None
    deadline: float | None = None  # time.monotonic() by which the request must be answered
    member_queries: int = 0  # Discover member lookups so far (bounded per request)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # one execute at a time per request, so the request's cell budget is checked and spent atomically
    execute_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def touched(self, operation: str, database: str | None) -> None:
        with self._lock:
            if operation not in self.operations:
                self.operations.append(operation)
            if database is not None and database not in self.databases:
                self.databases.append(database)

    def denied(self, database: str, reason: str) -> None:
        with self._lock:
            if database not in self.databases:
                self.databases.append(database)
            if self.denial_reason is None:
                self.denial_reason = f"{database}: {reason}"

    def served_cells(self, count: int) -> None:
        with self._lock:
            self.cells += count

    def count_member_query(self, limit: int) -> bool:
        """Count one Discover member lookup; False once the request has used ``limit``."""
        with self._lock:
            self.member_queries += 1
            return self.member_queries <= limit

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


@dataclass(frozen=True)
class RequestContext:
    """What Strawberry hands every resolver as ``info.context``."""

    principal: Principal
    session: DataSession
    trail: RequestTrail
    request_id: str
