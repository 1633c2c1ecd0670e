"""Creating, reopening and protecting the CA directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from admin.pki import CertificateAuthority, PKIError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_ca_dir_is_private_and_key_is_owner_only(ca: CertificateAuthority) -> None:
    assert _mode(ca.ca_dir) == 0o700
    assert _mode(ca.ca_key_path) == 0o600
    assert _mode(ca.index.path) == 0o600
    assert ca.ca_cert_path.exists() and ca.crl_path.exists()


def test_ca_dir_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0)
    try:
        authority = CertificateAuthority.create(tmp_path / "open" / "ca")
    finally:
        os.umask(old)
    assert _mode(authority.ca_dir) == 0o700
    assert _mode(authority.ca_key_path) == 0o600


def test_ca_certificate_is_a_self_signed_rsa_3072_ca(ca: CertificateAuthority) -> None:
    certificate = ca.certificate
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert usage.key_cert_sign and usage.crl_sign
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 3072
    certificate.verify_directly_issued_by(certificate)


def test_creating_over_an_existing_ca_is_refused(ca: CertificateAuthority) -> None:
    before = ca.ca_key_path.read_bytes()
    with pytest.raises(PKIError, match="already holds a CA"):
        CertificateAuthority.create(ca.ca_dir)
    assert ca.ca_key_path.read_bytes() == before


def test_reopened_ca_has_the_same_certificate_and_can_sign(ca: CertificateAuthority) -> None:
    reopened = CertificateAuthority.open(ca.ca_dir)
    assert reopened.certificate == ca.certificate
    issued = reopened.issue_client_certificate(login="kl_pri", kommune_kode="101")
    issued.certificate.verify_directly_issued_by(ca.certificate)


def test_open_without_a_ca_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(PKIError, match="pki init"):
        CertificateAuthority.open(tmp_path / "nothing")


def test_open_with_a_corrupt_index_is_refused(ca: CertificateAuthority) -> None:
    ca.index.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PKIError, match="corrupt"):
        CertificateAuthority.open(ca.ca_dir)


def test_open_or_create_creates_once_then_reopens(tmp_path: Path) -> None:
    first = CertificateAuthority.open_or_create(tmp_path / "ca", common_name="Test CA")
    second = CertificateAuthority.open_or_create(tmp_path / "ca", common_name="Ignored")
    assert second.certificate == first.certificate
    assert "Test CA" in first.certificate.subject.rfc4514_string()


def test_index_starts_with_the_ca_itself(ca: CertificateAuthority) -> None:
    (record,) = ca.list_certificates()
    assert record.kind == "ca" and record.serial == ca.certificate.serial_number


def test_passphrase_encrypts_the_key_at_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAADGANG_CA_PASSPHRASE", "correct horse")
    CertificateAuthority.create(tmp_path / "ca")
    assert (tmp_path / "ca" / "ca.key.pem").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    issued = CertificateAuthority.open(tmp_path / "ca").issue_client_certificate(login="a", kommune_kode="101")
    assert issued.serial > 0

    monkeypatch.delenv("DATAADGANG_CA_PASSPHRASE")
    without = CertificateAuthority.open(tmp_path / "ca")  # verifying needs no passphrase
    without.verify_client_certificate(issued.certificate)
    with pytest.raises(PKIError, match="DATAADGANG_CA_PASSPHRASE"):
        without.issue_client_certificate(login="b", kommune_kode="101")

    wrong = CertificateAuthority.open(tmp_path / "ca", passphrase=b"wrong")
    with pytest.raises(PKIError, match="cannot decrypt"):
        wrong.issue_client_certificate(login="c", kommune_kode="101")


def test_key_readable_by_others_is_refused_like_ssh_does(ca: CertificateAuthority) -> None:
    ca.ca_key_path.chmod(0o644)
    with pytest.raises(PKIError, match="chmod 600"):
        ca.issue_client_certificate(login="kl_pri", kommune_kode="101")


def test_a_foreign_key_in_the_ca_dir_is_refused(ca: CertificateAuthority, stranger_ca: CertificateAuthority) -> None:
    ca.ca_key_path.write_bytes(stranger_ca.ca_key_path.read_bytes())
    with pytest.raises(PKIError, match="does not belong"):
        ca.publish_crl()
