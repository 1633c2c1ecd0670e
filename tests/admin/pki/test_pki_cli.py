"""`dataadgang pki ...` through the real main group, with click's CliRunner."""

from __future__ import annotations

import json
import re
import ssl
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from admin.pki import CertificateAuthority
from admin.pki.index import parse_serial
from gateway.cli import main

LOGIN = "komb-fli-prod\\kl_pri"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), "pki", *args], env=env)


def dataadgang(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env)


@pytest.fixture
def with_user(home: Path) -> Path:
    """A CA, kommune 101 onboarded and the user LOGIN in the store."""
    assert run(home, "init").exit_code == 0
    assert dataadgang(home, "kommune", "onboard", "101").exit_code == 0
    assert dataadgang(home, "user", "add", "--kommune", "101", "--login", LOGIN).exit_code == 0
    return home


def assert_one_line_error(result: Result, text: str) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # a ClickException, not a traceback
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:") and text in lines[-1], result.output
    assert "Traceback" not in result.output


def _serial(output: str) -> str:
    match = re.search(r"certificate ([0-9A-F]+)", output)
    assert match, output
    return match.group(1)


def _password(output: str) -> str:
    match = re.search(r"shown once, not stored\): (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_init_creates_the_ca_under_home_and_refuses_a_second_time(home: Path) -> None:
    result = run(home, "init", "--common-name", "Test CA")
    assert result.exit_code == 0, result.output
    assert (home / "ca" / "ca.crt.pem").exists()
    assert stat.S_IMODE((home / "ca").stat().st_mode) == 0o700
    assert "NOT encrypted" in result.output
    assert_one_line_error(run(home, "init"), "already holds a CA")


def test_commands_before_init_say_to_run_init(home: Path) -> None:
    for args in (["pki", "list"], ["pki", "crl"], ["pki", "check"], ["pki", "server-cert", "localhost"],
                 ["user", "cert", "revoke", "AB", "--reason", "superseded"], ["user", "cert", "renew", "AB"]):
        assert_one_line_error(dataadgang(home, *args), "pki init")


def test_there_is_one_command_per_action() -> None:
    """Issuing and revoking a user's certificate is `user cert ...`; `pki` has no store-bypassing twin."""
    pki_group = main.commands["pki"]
    assert isinstance(pki_group, click.Group)
    assert sorted(pki_group.commands) == ["check", "crl", "init", "list", "server-cert"]


def test_user_cert_issue_writes_three_private_files_and_shows_the_password_once(with_user: Path, tmp_path: Path) -> None:
    home = with_user
    out = tmp_path / "out"
    result = dataadgang(home, "user", "cert", "issue", LOGIN, "--out", str(out), "--name", "kl_pri")
    assert result.exit_code == 0, result.output
    password = _password(result.output)
    assert result.output.count(password) == 1

    files = sorted(path.name for path in out.iterdir())
    assert files == ["kl_pri.crt.pem", "kl_pri.key.pem", "kl_pri.p12"]
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o600 for name in files)

    bundle = pkcs12.load_pkcs12((out / "kl_pri.p12").read_bytes(), password.encode())
    certificate = x509.load_pem_x509_certificate((out / "kl_pri.crt.pem").read_bytes())
    assert bundle.cert is not None and bundle.cert.certificate == certificate
    key = serialization.load_pem_private_key((out / "kl_pri.key.pem").read_bytes(), password=password.encode())
    assert key.public_key() == certificate.public_key()
    CertificateAuthority.open(home / "ca").verify_client_certificate(certificate)
    # what a code client does with the PEM pair
    ssl.create_default_context().load_cert_chain(out / "kl_pri.crt.pem", out / "kl_pri.key.pem", password=password)

    again = dataadgang(home, "user", "cert", "issue", LOGIN, "--out", str(out), "--name", "kl_pri")
    assert_one_line_error(again, "already exists")
    assert run(home, "check").output == "store, CA index and CRL agree\n"  # the refused second issue was revoked at once


def test_issue_refuses_more_than_a_year(with_user: Path, tmp_path: Path) -> None:
    too_long = dataadgang(with_user, "user", "cert", "issue", LOGIN, "--days", "400", "--out", str(tmp_path))
    assert_one_line_error(too_long, "at most 365 days")
    assert not list(tmp_path.glob("*.p12"))


def test_server_cert_writes_chain_and_key_and_revokes_the_one_it_replaces(home: Path, tmp_path: Path) -> None:
    assert run(home, "init").exit_code == 0
    result = run(home, "server-cert", "localhost", "127.0.0.1", "--out", str(tmp_path / "tls"))
    assert result.exit_code == 0, result.output
    chain = x509.load_pem_x509_certificates((tmp_path / "tls" / "server.crt").read_bytes())
    assert len(chain) == 2
    assert stat.S_IMODE((tmp_path / "tls" / "server.key").stat().st_mode) == 0o600
    assert_one_line_error(run(home, "server-cert", "bad host!"), "not a DNS name")

    replaced = run(home, "server-cert", "localhost", "--out", str(tmp_path / "tls"))
    assert f"revoked the replaced server certificate {chain[0].serial_number:X} (superseded)" in replaced.output
    crl = x509.load_pem_x509_crl((home / "ca" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(chain[0].serial_number) is not None


def test_server_key_is_encrypted_with_the_tls_key_passphrase(home: Path, tmp_path: Path) -> None:
    assert run(home, "init").exit_code == 0
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse\n")
    result = run(home, "server-cert", "localhost", env={"DATAADGANG_TLS_KEY_PASSPHRASE_FILE": str(secret)})
    assert result.exit_code == 0 and "encrypted with DATAADGANG_TLS_KEY_PASSPHRASE" in result.output, result.output
    key_pem = (home / "tls" / "server.key").read_bytes()
    assert key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    serialization.load_pem_private_key(key_pem, password=b"correct horse")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key_pem, password=None)
    # serve refuses, in one line, to start without it or with a wrong one (before binding any port)
    no_passphrase = dataadgang(home, "serve")
    assert_one_line_error(no_passphrase, "is encrypted: set DATAADGANG_TLS_KEY_PASSPHRASE")
    wrong = dataadgang(home, "serve", env={"DATAADGANG_TLS_KEY_PASSPHRASE": "wrong"})
    assert_one_line_error(wrong, "wrong DATAADGANG_TLS_KEY_PASSPHRASE")
    both = dataadgang(home, "serve", env={"DATAADGANG_TLS_KEY_PASSPHRASE": "x", "DATAADGANG_TLS_KEY_PASSPHRASE_FILE": str(secret)})
    assert_one_line_error(both, "not both")


def test_renew_revoke_crl_and_list_work_together(with_user: Path, tmp_path: Path) -> None:
    home = with_user
    issued = dataadgang(home, "user", "cert", "issue", LOGIN, "--out", str(tmp_path / "a"))
    old_serial = _serial(issued.output)

    renewed = dataadgang(home, "user", "cert", "renew", old_serial, "--out", str(tmp_path / "b"), "--days", "90", "--keep-old")
    assert renewed.exit_code == 0, renewed.output
    new_serial = _serial(renewed.output)
    assert new_serial != old_serial and _password(renewed.output)
    assert "stays valid until it expires" in renewed.output
    assert len(list((tmp_path / "b").glob("*.p12"))) == 1

    revoked = dataadgang(home, "user", "cert", "revoke", old_serial.lower(), "--reason", "key-compromise")
    assert revoked.exit_code == 0, revoked.output
    assert_one_line_error(dataadgang(home, "user", "cert", "revoke", old_serial, "--reason", "superseded"), "already revoked")
    assert_one_line_error(dataadgang(home, "user", "cert", "renew", old_serial), "revoked")
    assert dataadgang(home, "user", "cert", "revoke", "zz", "--reason", "superseded").exit_code == 2  # usage error

    crl = x509.load_pem_x509_crl((home / "ca" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(old_serial, 16)) is not None
    assert "1 revoked" in run(home, "crl").output
    assert "still fresh" in run(home, "crl", "--if-stale").output

    listed = json.loads(run(home, "list", "--json").output)
    by_serial = {row["serial"]: row for row in listed}
    assert by_serial[old_serial]["status"] == "revoked"
    assert by_serial[old_serial]["revocation_reason"] == "keyCompromise"
    assert by_serial[new_serial]["status"] == "valid" and by_serial[new_serial]["renewed_from"] == old_serial
    assert [row["kind"] for row in listed] == ["ca", "client", "client"]

    table = run(home, "list").output.splitlines()
    assert table[0].split()[:4] == ["SERIAL", "KIND", "STATUS", "NOT"]
    new_row = next(line for line in table if line.startswith(new_serial))
    assert "valid" in new_row and LOGIN in new_row and "101" in new_row
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", new_row)


@pytest.mark.parametrize("text", ["1A2B", "1a2b", "0x1A2B", "1A:2B", " 1a:2b "])
def test_serials_are_read_as_printed_by_pki_list_or_openssl(text: str) -> None:
    assert parse_serial(text) == 0x1A2B


@pytest.mark.parametrize("text", ["", "xyz", "0", "-5"])
def test_nonsense_serials_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_serial(text)
