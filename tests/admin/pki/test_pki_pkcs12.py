"""PKCS#12 bundles that the real openssl (and so Windows/macOS importers) read: 3DES/SHA-1, CA included."""

from __future__ import annotations

import re
import string
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from admin.pki import CertificateAuthority, IssuedCertificate, generate_password

LOGIN = "komb-fli-prod\\kl_pri"
FRIENDLY = "dataadgang komb-fli-prod\\kl_pri (kommune 101)"


@pytest.fixture(scope="module")
def issued(shared_ca: CertificateAuthority) -> IssuedCertificate:
    return shared_ca.issue_client_certificate(login=LOGIN, kommune_kode="101")


@pytest.fixture
def bundle(tmp_path: Path, shared_ca: CertificateAuthority, issued: IssuedCertificate) -> tuple[Path, str]:
    password = generate_password()
    path = tmp_path / "user.p12"
    path.write_bytes(issued.pkcs12(shared_ca, password=password.encode(), friendly_name=FRIENDLY))
    return path, password


def _openssl_info(openssl: str, path: Path, password: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`openssl pkcs12 -info` with an empty config: only the default provider, never `legacy`."""
    empty_config = tmp_path / "openssl.cnf"
    empty_config.write_text("", encoding="utf-8")
    return subprocess.run(
        [openssl, "pkcs12", "-info", "-nokeys", "-in", str(path), "-passin", f"pass:{password}"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"OPENSSL_CONF": str(empty_config), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_openssl_reads_the_bundle_without_the_legacy_provider(
    openssl: str, bundle: tuple[Path, str], tmp_path: Path
) -> None:
    path, password = bundle
    result = _openssl_info(openssl, path, password, tmp_path)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert re.search(r"^MAC: sha1\b", output, re.MULTILINE)
    assert re.search(r"^PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC", output, re.MULTILINE)
    assert re.search(r"^Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC", output, re.MULTILINE)
    assert "RC2" not in output and "AES" not in output
    assert f"friendlyName: {FRIENDLY}" in output
    subjects = re.findall(r"^subject=(.*)$", output, re.MULTILINE)
    assert len(subjects) == 2 and any("CN = dataadgang CA" in subject for subject in subjects)


def test_openssl_refuses_a_wrong_password(openssl: str, bundle: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = bundle
    result = _openssl_info(openssl, path, "not-the-password", tmp_path)
    assert result.returncode != 0
    assert "invalid password" in (result.stdout + result.stderr).lower()


def test_bundle_holds_key_certificate_and_ca(
    bundle: tuple[Path, str], issued: IssuedCertificate, shared_ca: CertificateAuthority
) -> None:
    path, password = bundle
    loaded = pkcs12.load_pkcs12(path.read_bytes(), password.encode())
    assert loaded.cert is not None and loaded.cert.certificate == issued.certificate
    assert loaded.cert.friendly_name == FRIENDLY.encode()
    assert loaded.key is not None
    assert loaded.key.public_key() == issued.private_key.public_key()
    assert [extra.certificate for extra in loaded.additional_certs] == [shared_ca.certificate]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(path.read_bytes(), b"wrong")


def test_a_bundle_needs_a_password(issued: IssuedCertificate, shared_ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="password"):
        issued.pkcs12(shared_ca, password=b"", friendly_name=FRIENDLY)


def test_generated_passwords_are_typeable_and_unique() -> None:
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    allowed = set(string.ascii_lowercase + string.digits + "-") - set("01lo")
    for password in passwords:
        assert re.fullmatch(r"[a-z0-9]{5}(-[a-z0-9]{5}){3}", password)
        assert set(password) <= allowed
