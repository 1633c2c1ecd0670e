"""What issued certificates say, and what the CA refuses to issue."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from admin.pki import CertificateAuthority, PKIError, client_identity, fingerprint

LOGIN = "komb-fli-prod\\kl_pri"


def test_client_certificate_is_for_client_auth_only_and_names_the_user(shared_ca: CertificateAuthority) -> None:
    issued = shared_ca.issue_client_certificate(login=LOGIN, kommune_kode="101")
    cert = issued.certificate
    extensions = cert.extensions

    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not (usage.value.key_encipherment or usage.value.key_cert_sign or usage.value.crl_sign)
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False

    san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:dataadgang:user:101:komb-fli-prod%5Ckl_pri"]
    assert client_identity(cert) == (LOGIN, "101")

    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == LOGIN
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "kommune 101"
    assert cert.issuer == shared_ca.certificate.subject
    cert.verify_directly_issued_by(shared_ca.certificate)

    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=365)
    assert issued.fingerprint == fingerprint(cert) == cert.fingerprint(hashes.SHA256()).hex()
    assert issued.serial == cert.serial_number
    assert isinstance(issued.private_key, rsa.RSAPrivateKey) and issued.private_key.key_size == 3072
    assert issued.private_key.public_key() == cert.public_key()


def test_client_certificate_longer_than_a_year_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="at most 365 days"):
        ca.issue_client_certificate(login="kl_pri", kommune_kode="101", valid_days=400)
    assert [record.kind for record in ca.list_certificates()] == ["ca"]


@pytest.mark.parametrize(
    ("login", "kommune"),
    [("kl_pri", "1010"), ("kl_pri", "abc"), ("", "101"), (" padded", "101"), ("tab\there", "101"), ("x" * 65, "101")],
)
def test_bad_login_or_kommune_code_is_refused(shared_ca: CertificateAuthority, login: str, kommune: str) -> None:
    with pytest.raises(ValueError):
        shared_ca.issue_client_certificate(login=login, kommune_kode=kommune)


def test_certificate_may_not_outlive_the_ca(tmp_path: Path) -> None:
    short_lived = CertificateAuthority.create(tmp_path / "ca", valid_days=30)
    with pytest.raises(PKIError, match="outlive the CA"):
        short_lived.issue_client_certificate(login="kl_pri", kommune_kode="101")


def test_naive_not_before_is_refused(shared_ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="timezone"):
        shared_ca.issue_client_certificate(login="a", kommune_kode="101", not_before=dt.datetime(2025, 1, 1))


def test_server_certificate_names_dns_and_ip_hosts_for_server_auth(
    tmp_path: Path, shared_ca: CertificateAuthority
) -> None:
    issued = shared_ca.issue_server_certificate(["Gateway.Example.dk", "127.0.0.1", "::1"], out_dir=tmp_path / "tls")
    extensions = issued.certificate.extensions
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gateway.example.dk"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    assert list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert issued.not_after - issued.not_before <= dt.timedelta(days=397)

    chain = x509.load_pem_x509_certificates((tmp_path / "tls" / "server.crt").read_bytes())
    assert chain == [issued.certificate, shared_ca.certificate]
    key_path = tmp_path / "tls" / "server.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == issued.certificate.public_key()


@pytest.mark.parametrize("hosts", [[], ["not a host"], ["*.wildcard.dk"], ["under_score.dk"]])
def test_server_certificate_needs_real_host_names(shared_ca: CertificateAuthority, hosts: list[str]) -> None:
    with pytest.raises(ValueError):
        shared_ca.issue_server_certificate(hosts)


def test_every_issued_certificate_is_in_the_index(ca: CertificateAuthority) -> None:
    client = ca.issue_client_certificate(login=LOGIN, kommune_kode="147", valid_days=30)
    server = ca.issue_server_certificate(["localhost"])
    records = {record.serial: record for record in ca.list_certificates()}
    assert set(records) == {ca.certificate.serial_number, client.serial, server.serial}
    record = records[client.serial]
    assert (record.kind, record.login, record.kommune_kode) == ("client", LOGIN, "147")
    assert record.fingerprint == client.fingerprint
    assert record.not_after == client.not_after and record.revoked_at is None
    assert records[server.serial].hostnames == ("localhost",)
    # another process sees the same index
    assert {r.serial for r in CertificateAuthority.open(ca.ca_dir).list_certificates()} == set(records)


def test_renewal_gives_new_key_and_serial_with_the_same_subject(ca: CertificateAuthority) -> None:
    old = ca.issue_client_certificate(login=LOGIN, kommune_kode="101")
    new = ca.renew(old.serial, valid_days=200)
    assert new.serial != old.serial and new.fingerprint != old.fingerprint
    assert new.certificate.subject == old.certificate.subject
    assert client_identity(new.certificate) == (LOGIN, "101")
    assert new.private_key.public_key() != old.private_key.public_key()
    assert new.not_after - new.not_before == dt.timedelta(days=200)
    records = {record.serial: record for record in ca.list_certificates()}
    assert records[new.serial].renewed_from == old.serial
    assert records[old.serial].revoked_at is None  # the old one stays valid until revoked or expired
    ca.verify_client_certificate(old.certificate)


def test_renewing_a_server_certificate_keeps_its_host_names(ca: CertificateAuthority) -> None:
    old = ca.issue_server_certificate(["localhost", "10.0.0.1"])
    new = ca.renew(old.serial)
    old_san = old.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    new_san = new.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert new_san == old_san and new.serial != old.serial


def test_renewing_revoked_unknown_or_ca_certificates_is_refused(ca: CertificateAuthority) -> None:
    issued = ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    ca.revoke(issued.serial)
    with pytest.raises(PKIError, match="revoked"):
        ca.renew(issued.serial)
    with pytest.raises(PKIError, match="no certificate with serial"):
        ca.renew(12345)
    with pytest.raises(PKIError, match="CA certificate"):
        ca.renew(ca.certificate.serial_number)


def test_private_key_pem_is_encrypted_with_the_given_password(shared_ca: CertificateAuthority) -> None:
    issued = shared_ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    pem = issued.private_key_pem(b"s3cret")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert serialization.load_pem_private_key(pem, password=b"s3cret").public_key() == issued.private_key.public_key()
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(pem, password=b"wrong")
    assert b"ENCRYPTED" not in issued.private_key_pem()
