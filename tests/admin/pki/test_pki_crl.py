"""Revocation and the published CRL, checked with cryptography and with the real openssl."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from admin.pki import CertificateAuthority, PKIError


def _published(ca: CertificateAuthority) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(ca.crl_path.read_bytes())


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_a_new_ca_publishes_an_empty_signed_crl(ca: CertificateAuthority) -> None:
    crl = _published(ca)
    assert len(crl) == 0
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.certificate.subject


def test_revoked_serial_is_in_the_crl_with_its_reason(ca: CertificateAuthority) -> None:
    issued = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    kept = ca.issue_client_certificate(login="kl_other", kommune_kode="101")
    ca.revoke(issued.serial, x509.ReasonFlags.key_compromise)

    crl = _published(ca)
    entry = crl.get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(kept.serial) is None
    now = dt.datetime.now(dt.UTC)
    assert crl.next_update_utc is not None and crl.next_update_utc > now + dt.timedelta(days=6)
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]

    record = next(r for r in ca.list_certificates() if r.serial == issued.serial)
    assert record.revocation_reason is x509.ReasonFlags.key_compromise
    assert record.revoked_at is not None and record.status(now) == "revoked"


def test_crl_signature_does_not_verify_with_another_cas_key(
    ca: CertificateAuthority, stranger_ca: CertificateAuthority
) -> None:
    assert not _published(ca).is_signature_valid(stranger_ca.certificate.public_key())  # type: ignore[arg-type]


def test_unspecified_reason_is_left_out_of_the_entry(ca: CertificateAuthority) -> None:
    issued = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    ca.revoke(issued.serial)
    entry = _published(ca).get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None
    with pytest.raises(x509.ExtensionNotFound):
        entry.extensions.get_extension_for_class(x509.CRLReason)


def test_every_crl_gets_a_higher_number(ca: CertificateAuthority) -> None:
    first = _crl_number(_published(ca))
    ca.publish_crl()
    second = _crl_number(_published(ca))
    ca.publish_crl()
    assert first < second < _crl_number(_published(ca))


def test_revoking_twice_unknown_or_the_ca_is_refused(ca: CertificateAuthority) -> None:
    issued = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    ca.revoke(issued.serial, x509.ReasonFlags.superseded)
    with pytest.raises(PKIError, match="already revoked"):
        ca.revoke(issued.serial)
    with pytest.raises(PKIError, match="no certificate"):
        ca.revoke(999)
    with pytest.raises(PKIError, match="CA certificate"):
        ca.revoke(ca.certificate.serial_number)
    with pytest.raises(ValueError):
        ca.revoke(issued.serial, x509.ReasonFlags.remove_from_crl)


def test_expired_revoked_certificates_drop_out_of_the_crl(ca: CertificateAuthority) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    expired = ca.issue_client_certificate(login="kl_old", kommune_kode="101", valid_days=1, not_before=past)
    ca.revoke(expired.serial, x509.ReasonFlags.cessation_of_operation)
    assert _published(ca).get_revoked_certificate_by_serial_number(expired.serial) is None


def test_publish_if_stale_keeps_a_fresh_crl_and_replaces_an_old_or_missing_one(ca: CertificateAuthority) -> None:
    number = _crl_number(_published(ca))
    assert ca.publish_crl_if_stale() is None
    assert _crl_number(_published(ca)) == number
    # within the margin of nextUpdate (a margin longer than the CRL's life makes any CRL "near expiry")
    assert ca.publish_crl_if_stale(margin=dt.timedelta(days=8)) == ca.crl_path
    assert _crl_number(_published(ca)) == number + 1
    ca.crl_path.unlink()
    assert ca.publish_crl_if_stale() == ca.crl_path
    assert len(_published(ca)) == 0


def test_publish_if_stale_catches_up_with_revocations_the_file_lacks(ca: CertificateAuthority) -> None:
    before_revocation = ca.crl_path.read_bytes()
    issued = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    ca.revoke(issued.serial)
    ca.crl_path.write_bytes(before_revocation)  # e.g. restored from an old backup
    assert ca.publish_crl_if_stale() == ca.crl_path
    assert _published(ca).get_revoked_certificate_by_serial_number(issued.serial) is not None


def test_openssl_verifies_the_crl_and_refuses_the_revoked_certificate(
    ca: CertificateAuthority, openssl: str, tmp_path: Path
) -> None:
    revoked = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    good = ca.issue_client_certificate(login="kl_ok", kommune_kode="101")
    ca.revoke(revoked.serial, x509.ReasonFlags.key_compromise)

    crl_check = subprocess.run(
        [openssl, "crl", "-in", str(ca.crl_path), "-CAfile", str(ca.ca_cert_path), "-noout", "-verify"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert crl_check.returncode == 0 and "verify OK" in crl_check.stdout + crl_check.stderr

    def openssl_verify(leaf: bytes, name: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / f"{name}.pem"
        path.write_bytes(leaf)
        return subprocess.run(
            [openssl, "verify", "-crl_check", "-purpose", "sslclient", "-CAfile", str(ca.ca_cert_path),
             "-CRLfile", str(ca.crl_path), str(path)],
            capture_output=True, text=True, timeout=30, check=False,
        )

    refused = openssl_verify(revoked.certificate_pem(), "revoked")
    assert refused.returncode != 0 and "certificate revoked" in refused.stdout + refused.stderr
    accepted = openssl_verify(good.certificate_pem(), "good")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
