"""Checking a client certificate against our CA, for certificates a proxy forwarded.

nginx verified the chain already; we check again because a header is only as trustworthy as
the proxy configuration. The explicit checks give the operator a precise reason; cryptography's
RFC 5280 path validator then runs as well, so nothing we forgot to check slips through.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from admin.pki.errors import PKIError


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def verify_client_certificate(
    ca_certificate: x509.Certificate, certificate: x509.Certificate, *, at: dt.datetime | None = None
) -> None:
    """Raise :class:`PKIError` unless ``certificate`` is a client certificate this CA signed, valid ``at``."""
    at = at or dt.datetime.now(dt.UTC)
    if certificate.issuer != ca_certificate.subject:
        raise PKIError("certificate was not issued by this CA (issuer name differs)")
    try:
        certificate.verify_directly_issued_by(ca_certificate)
    except (InvalidSignature, ValueError, TypeError):
        raise PKIError("certificate signature does not verify with this CA's key") from None
    if at < certificate.not_valid_before_utc:
        raise PKIError(f"certificate is not valid before {certificate.not_valid_before_utc.isoformat()}")
    if at > certificate.not_valid_after_utc:
        raise PKIError(f"certificate expired at {certificate.not_valid_after_utc.isoformat()}")
    constraints = _extension(certificate, x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise PKIError("a CA certificate cannot be used as a client certificate")
    usage = _extension(certificate, x509.ExtendedKeyUsage)
    if not isinstance(usage, x509.ExtendedKeyUsage) or ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
        raise PKIError("certificate is not for client authentication (no clientAuth extended key usage)")
    verifier = PolicyBuilder().store(Store([ca_certificate])).time(at).build_client_verifier()
    try:
        verifier.verify(certificate, [])
    except VerificationError as error:
        raise PKIError(f"certificate path validation failed: {error}") from None
