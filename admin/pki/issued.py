"""A freshly issued certificate with its key: the only moment the key exists outside the user's PC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from admin.pki.pkcs12 import export_pkcs12

if TYPE_CHECKING:
    from admin.pki.ca import CertificateAuthority

IssuedKey = rsa.RSAPrivateKey


def fingerprint(certificate: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the DER certificate: the principal key everywhere."""
    return certificate.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class IssuedCertificate:
    """Returned by issue/renew. The CA does not keep ``private_key``: export it or lose it."""

    certificate: x509.Certificate
    private_key: IssuedKey = field(repr=False)
    serial: int
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime

    @classmethod
    def of(cls, certificate: x509.Certificate, private_key: IssuedKey) -> IssuedCertificate:
        return cls(
            certificate=certificate,
            private_key=private_key,
            serial=certificate.serial_number,
            fingerprint=fingerprint(certificate),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted (best available: AES-256) when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def pkcs12(self, ca: CertificateAuthority, *, password: bytes, friendly_name: str) -> bytes:
        """A bundle Windows and macOS import: 3DES/SHA-1 PBE, CA certificate included."""
        return export_pkcs12(
            self.certificate, self.private_key, ca.certificate, password=password, friendly_name=friendly_name
        )
