"""Certificate revocation lists for the proxies (nginx ``ssl_crl``) and anyone else who asks.

A CRL whose nextUpdate has passed makes nginx refuse *every* client, so a published CRL must
be refreshed well before then: ``dataadgang pki crl --if-stale`` (daily from cron or a systemd
timer) republishes when less than ``REFRESH_MARGIN`` is left or the revocations changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from admin.pki.index import CertificateRecord

CRL_VALIDITY = dt.timedelta(days=7)
REFRESH_MARGIN = dt.timedelta(days=3)


def revoked_entries(records: Iterable[CertificateRecord], now: dt.datetime) -> list[CertificateRecord]:
    """Revoked and not yet expired: an expired certificate fails on its dates alone (RFC 5280 §3.3)."""
    return [r for r in records if r.revoked_at is not None and r.not_after >= now]


def build_crl(
    ca_certificate: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes,
    records: Iterable[CertificateRecord],
    *,
    number: int,
    now: dt.datetime,
    validity: dt.timedelta = CRL_VALIDITY,
) -> x509.CertificateRevocationList:
    """A signed CRL numbered ``number`` with nextUpdate ``now + validity``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_certificate.subject)
        .last_update(now)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for record in revoked_entries(records, now):
        revoked_at = record.revoked_at or now  # always set: revoked_entries keeps only revoked ones
        entry = x509.RevokedCertificateBuilder().serial_number(record.serial).revocation_date(revoked_at)
        reason = record.revocation_reason
        # RFC 5280 §5.3.1: omit the reason code rather than say "unspecified"
        if reason is not None and reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca_key, hashes.SHA256())


def load_crl(path: Path) -> x509.CertificateRevocationList | None:
    """The published CRL, or None when it is missing or unreadable."""
    try:
        return x509.load_pem_x509_crl(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def crl_is_stale(
    published: x509.CertificateRevocationList | None,
    ca_certificate: x509.Certificate,
    records: Iterable[CertificateRecord],
    *,
    now: dt.datetime,
    margin: dt.timedelta = REFRESH_MARGIN,
) -> bool:
    """True when the published CRL is missing, badly signed, near its nextUpdate or out of date."""
    if published is None or published.next_update_utc is None:
        return True
    if not published.is_signature_valid(ca_certificate.public_key()):  # type: ignore[arg-type]
        return True
    if published.next_update_utc - now < margin:
        return True
    listed = {entry.serial_number for entry in published}
    return listed != {record.serial for record in revoked_entries(records, now)}
