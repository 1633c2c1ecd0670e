"""An IdentitySource held in memory: the store's identity contract without a database (tests, bench)."""

from __future__ import annotations

import threading

from gateway.principal import Principal


class InMemoryIdentitySource:
    """An :class:`IdentitySource` held in memory, for tests and benchmarks.

    Behaves like the store: every change bumps the revision, revoked certificates and
    suspended users resolve to None. Thread-safe, because uvicorn serves it from its own
    thread in tests while the test thread revokes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision = 0
        self._principals: dict[str, Principal] = {}
        self._revoked: set[str] = set()
        self._suspended: set[str] = set()  # logins
        self.revision_calls = 0  # observable cost: how often the resolver asked

    def revision(self) -> int:
        with self._lock:
            self.revision_calls += 1
            return self._revision

    def revoked_fingerprints(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._revoked)

    def principal_for(self, fingerprint: str) -> Principal | None:
        with self._lock:
            principal = self._principals.get(fingerprint)
            if principal is None or fingerprint in self._revoked or principal.login in self._suspended:
                return None
            return principal

    def add(self, principal: Principal) -> None:
        with self._lock:
            self._principals[principal.cert_fingerprint] = principal
            self._revision += 1

    def revoke(self, fingerprint: str) -> None:
        with self._lock:
            self._revoked.add(fingerprint)
            self._revision += 1

    def suspend(self, login: str) -> None:
        with self._lock:
            self._suspended.add(login)
            self._revision += 1

    def reactivate(self, login: str) -> None:
        with self._lock:
            self._suspended.discard(login)
            self._revision += 1
