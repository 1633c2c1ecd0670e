"""Where principals come from: the contract the metadata store implements.

The identity step never reads the store's tables; it asks an :class:`IdentitySource`. The
``revision`` number is what makes revocation immediate without a query per lookup: it is
cheap, it rises on every change in any process, and the resolver reloads when it moves.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gateway.principal import Principal


@runtime_checkable
class IdentitySource(Protocol):
    def revision(self) -> int:
        """Cheap; increases on every change to users, certificates or their status (any process)."""
        ...

    def revoked_fingerprints(self) -> frozenset[str]:
        """Fingerprints (lowercase hex SHA-256) of every revoked certificate."""
        ...

    def principal_for(self, fingerprint: str) -> Principal | None:
        """None when the certificate is unknown, not active (revoked/expired) or its user is not active."""
        ...
