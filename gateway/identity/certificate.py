"""Client certificates as the identity step sees them: parsed once, keyed by fingerprint.

The principal key is the SHA-256 fingerprint of the DER leaf, never the CN: two certificates
with the same subject are two identities, and a re-issued certificate is a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


class CertificateFormatError(ValueError):
    """Bytes that are not exactly one X.509 certificate in PEM or DER form."""


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """A parsed leaf certificate plus the facts every request needs, computed once."""

    certificate: x509.Certificate
    der: bytes
    fingerprint: str  # lowercase hex SHA-256 of ``der``
    not_before: dt.datetime  # timezone-aware UTC
    not_after: dt.datetime  # timezone-aware UTC
    serial: int  # read once: the CRL check asks for it on every request

    def pem(self) -> str:
        return ssl.DER_cert_to_PEM_cert(self.der)

    def is_valid_at(self, at: dt.datetime) -> bool:
        return self.not_before <= at <= self.not_after


def fingerprint_der(der: bytes) -> str:
    """Lowercase hex SHA-256 of a DER certificate: the same value admin/pki records."""
    return hashlib.sha256(der).hexdigest()


def fingerprint(certificate: x509.Certificate) -> str:
    return fingerprint_der(certificate.public_bytes(_DER))


def parse_der(der: bytes) -> ClientCertificate:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise CertificateFormatError(f"not a DER certificate: {error}") from None
    return _wrap(certificate, der)


def parse_pem(pem: str | bytes) -> ClientCertificate:
    """Exactly one PEM certificate; anything around or beyond it is refused, not skipped."""
    data = pem.encode("ascii", "strict") if isinstance(pem, str) else pem
    stripped = data.strip()
    if stripped.count(_BEGIN) != 1 or not stripped.startswith(_BEGIN) or not stripped.endswith(_END):
        raise CertificateFormatError("expected exactly one PEM certificate")
    try:
        certificate = x509.load_pem_x509_certificate(stripped)
    except ValueError as error:
        raise CertificateFormatError(f"not a PEM certificate: {error}") from None
    return _wrap(certificate, certificate.public_bytes(_DER))


def _wrap(certificate: x509.Certificate, der: bytes) -> ClientCertificate:
    return ClientCertificate(
        certificate=certificate,
        der=der,
        fingerprint=fingerprint_der(der),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        serial=certificate.serial_number,
    )


_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"
_DER = Encoding.DER
