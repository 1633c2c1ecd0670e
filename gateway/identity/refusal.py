"""Why a request was refused: precise for the audit trail, never shown to the client.

The client gets the one generic :class:`gateway.errors.AuthenticationError` for every refused
certificate (a request with no certificate at all is told one is required); the reason travels only to the injected ``on_refused`` callback, so an attacker learns nothing
about which check failed while the security officer can still read why.
"""

from __future__ import annotations

from enum import Enum

from gateway.errors import DataadgangError


class RefusalReason(str, Enum):
    NO_CERTIFICATE = "no_certificate"
    UNTRUSTED_FORWARDER = "forwarded_certificate_from_untrusted_peer"
    NOT_VIA_PROXY = "direct_connection_in_proxy_mode"
    MALFORMED_HEADER = "malformed_certificate_header"
    NOT_ISSUED_BY_CA = "not_issued_by_our_ca"
    NOT_CLIENT_CERTIFICATE = "not_a_client_certificate"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN_OR_INACTIVE = "unknown_or_inactive"
    SOURCE_UNAVAILABLE = "identity_source_unavailable"


class IdentityRefused(DataadgangError):
    """Internal: carries the reason to the middleware, which turns it into the generic 401."""

    def __init__(self, reason: RefusalReason, detail: str = "", *, fingerprint: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.fingerprint = fingerprint
        super().__init__(self.description)

    @property
    def description(self) -> str:
        """``reason`` or ``reason: detail``; the string handed to ``on_refused``."""
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value
