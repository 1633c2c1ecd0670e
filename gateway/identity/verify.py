"""Verify a client certificate against our CA with only the CA's *certificate*.

A certificate forwarded by a proxy is checked again here (defence in depth: a misconfigured
proxy must not be the only gate). The gateway holds no CA private key, so this mirrors
``admin.pki.CertificateAuthority.verify_client_certificate`` using public cryptography APIs.
Direct TLS leaves are checked too: OpenSSL verified them at the handshake, but a kept-alive
connection can outlive the certificate, so the validity window is re-checked per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from gateway.identity.certificate import ClientCertificate
from gateway.identity.refusal import IdentityRefused, RefusalReason


class ClientCertificateVerifier:
    """Signature by one of our CA certificates, clientAuth EKU, not a CA, validity window.

    The explicit checks name a precise reason for the audit trail; cryptography's RFC 5280
    path validator then runs too (as admin.pki.verify does), so nothing we forgot slips
    through. Several CA certificates may be given (a CA rollover).
    """

    def __init__(self, ca_certificates: Sequence[x509.Certificate]) -> None:
        if not ca_certificates:
            raise ValueError("at least one CA certificate is required")
        by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for ca in ca_certificates:
            if not _is_ca(ca):
                raise ValueError(f"not a CA certificate: {ca.subject.rfc4514_string()}")
            by_subject.setdefault(ca.subject, []).append(ca)
        self._by_subject = {name: tuple(cas) for name, cas in by_subject.items()}
        self._store = Store(list(ca_certificates))

    @classmethod
    def from_pem_file(cls, path: Path) -> ClientCertificateVerifier:
        """Every certificate in a PEM bundle (e.g. the CA's ``ca.crt``)."""
        return cls(x509.load_pem_x509_certificates(path.read_bytes()))

    def verify_issuer_and_usage(self, client: ClientCertificate) -> None:
        """The time-independent checks; their result may be cached per certificate."""
        certificate = client.certificate
        if not any(_signed_by(certificate, ca) for ca in self._by_subject.get(certificate.issuer, ())):
            raise IdentityRefused(RefusalReason.NOT_ISSUED_BY_CA, fingerprint=client.fingerprint)
        if _is_ca(certificate):
            raise IdentityRefused(
                RefusalReason.NOT_CLIENT_CERTIFICATE, "basic constraints say CA", fingerprint=client.fingerprint
            )
        try:
            usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            raise IdentityRefused(
                RefusalReason.NOT_CLIENT_CERTIFICATE, "no extended key usage", fingerprint=client.fingerprint
            ) from None
        if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
            raise IdentityRefused(
                RefusalReason.NOT_CLIENT_CERTIFICATE, "no clientAuth usage", fingerprint=client.fingerprint
            )

    @staticmethod
    def verify_validity(client: ClientCertificate, at: dt.datetime) -> None:
        """Checked on every request, so expiry cuts off a connection that is kept alive."""
        if at < client.not_before:
            raise IdentityRefused(RefusalReason.NOT_YET_VALID, fingerprint=client.fingerprint)
        if at > client.not_after:
            raise IdentityRefused(RefusalReason.EXPIRED, fingerprint=client.fingerprint)

    def verify(self, client: ClientCertificate, *, at: dt.datetime) -> None:
        """Everything, on first sight of a certificate; afterwards :meth:`verify_validity` suffices."""
        self.verify_validity(client, at)
        self.verify_issuer_and_usage(client)
        verifier = PolicyBuilder().store(self._store).time(at).build_client_verifier()
        try:
            verifier.verify(client.certificate, [])
        except VerificationError as error:
            raise IdentityRefused(
                RefusalReason.NOT_ISSUED_BY_CA, f"path validation: {error}", fingerprint=client.fingerprint
            ) from None


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
