from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from cryptography import x509

from gateway.audit import AuditEvent
from gateway.cli import main
from gateway.settings import Settings
from gateway.store import MetadataStore

LOGIN = "komb-fli-prod\\kl_pri"


class Cli:
    """Runs ``dataadgang`` in-process against one home directory and metadata database."""

    def __init__(self, home: Path, metadata_url: str) -> None:
        self.home = home
        self.url = metadata_url
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(
            main, ["--home", str(self.home), *args], env={"DATAADGANG_METADATA_URL": self.url}, catch_exceptions=False
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def fails(self, *args: str) -> str:
        result = self(*args, ok=False)
        assert result.exit_code != 0
        message = result.output.strip()
        assert "Traceback" not in message
        assert len(message.splitlines()) == 1, message
        return message

    def store(self) -> MetadataStore:
        return MetadataStore.from_settings(Settings.from_env({"DATAADGANG_HOME": str(self.home), "DATAADGANG_METADATA_URL": self.url}))


@pytest.fixture
def cli(tmp_path: Path, metadata_url: str) -> Cli:
    return Cli(tmp_path / "home", metadata_url)


@pytest.fixture
def with_user(cli: Cli) -> Cli:
    cli("kommune", "onboard", "101")
    cli("user", "add", "--kommune", "101", "--login", LOGIN, "--name", "Kim")
    return cli


def test_onboard_add_grant_and_list(with_user: Cli) -> None:
    cli = with_user
    lines = cli("kommune", "list", "--onboarded").output.splitlines()
    assert len(lines) == 2 and lines[1].split()[:3] == ["101", "København", "Hovedstaden"]
    cli("user", "add", "--kommune", "101", "--login", "komb-fli-prod\\k101_so", "--role", "security_officer", "--role", "user")
    listing = cli("user", "list", "--kommune", "101").output
    assert LOGIN in listing and "security_officer,user" in listing
    added = cli("grant", "add", LOGIN, "ukraine", "--purpose", "Ukraine-rapport", "--to", "2999-01-01").output
    assert added.startswith("grant #1:")
    grants = cli("grant", "list", "--login", LOGIN).output
    assert "ukraine" in grants and "active" in grants and "Ukraine-rapport" in grants
    assert "revoked grant #1" in cli("grant", "revoke", "1").output
    assert "revoked" in cli("grant", "list").output
    assert cli("grant", "list", "--active").output.count("\n") == 1  # header only
    assert "suspended" in cli("user", "suspend", LOGIN).output
    assert "activated" in cli("user", "activate", LOGIN).output


def test_mistakes_are_one_line_errors(with_user: Cli) -> None:
    cli = with_user
    assert "unknown kommune '999'" in cli.fails("kommune", "onboard", "999")
    assert "already taken" in cli.fails("user", "add", "--kommune", "101", "--login", LOGIN)
    assert "not onboarded" in cli.fails("user", "add", "--kommune", "147", "--login", "frb\\jens")
    assert "unknown data area 'nope'" in cli.fails("grant", "add", LOGIN, "nope", "--purpose", "x")
    assert "not an ISO date" in cli.fails("grant", "add", LOGIN, "ukraine", "--purpose", "x", "--to", "tomorrow")
    assert "must be after valid_from" in cli.fails(
        "grant", "add", LOGIN, "ukraine", "--purpose", "x", "--from", "2999-02-01", "--to", "2999-01-01"
    )
    assert "no grant #42" in cli.fails("grant", "revoke", "42")
    assert "no user 'a\\b'" in cli.fails("user", "suspend", "a\\b")
    cli("user", "suspend", LOGIN)
    assert "is suspended" in cli.fails("grant", "add", LOGIN, "ukraine", "--purpose", "x")


def test_default_metadata_store_is_sqlite_under_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["--home", str(home), "kommune", "onboard", "147"], env={"DATAADGANG_METADATA_URL": ""})
    assert result.exit_code == 0, result.output
    assert (home / "metadata.sqlite").is_file()


def test_certificate_issue_records_it_and_revoke_cuts_it_off(with_user: Cli, tmp_path: Path) -> None:
    cli = with_user
    out = tmp_path / "out"
    output = cli("user", "cert", "issue", LOGIN, "--out", str(out)).output
    password = output.rsplit("(shown once, not stored): ", 1)[1].strip()
    assert len(password) >= 16
    files = sorted(out.iterdir())
    assert [path.suffix for path in files] == [".pem", ".pem", ".p12"]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    certificate = x509.load_pem_x509_certificate(next(p for p in files if p.name.endswith(".crt.pem")).read_bytes())
    from admin.pki import fingerprint

    with cli.store() as store:
        principal = store.principal_for(fingerprint(certificate))
        assert principal is not None and principal.login == LOGIN and principal.cert_serial == certificate.serial_number
    serial = f"{certificate.serial_number:X}"
    assert serial in cli("user", "cert", "list", LOGIN).output
    assert "revoked certificate" in cli("user", "cert", "revoke", serial, "--reason", "key-compromise").output
    with cli.store() as store:
        assert store.principal_for(fingerprint(certificate)) is None
    crl = x509.load_pem_x509_crl((cli.home / "ca" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    assert "already revoked" in cli.fails("user", "cert", "revoke", serial, "--reason", "superseded")


def test_certificate_for_suspended_user_is_not_issued(with_user: Cli, tmp_path: Path) -> None:
    with_user("user", "suspend", LOGIN)
    assert "is suspended" in with_user.fails("user", "cert", "issue", LOGIN, "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_failed_recording_revokes_the_issued_certificate(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'meta.sqlite'}")
    cli("kommune", "onboard", "101")
    cli("user", "add", "--kommune", "101", "--login", LOGIN)
    with cli.store() as store, store.database.engine.begin() as connection:
        connection.exec_driver_sql("drop table certificates")  # the store breaks between issue and record
    message = cli.fails("user", "cert", "issue", LOGIN, "--out", str(tmp_path / "out"))
    assert "metadata store: no such table: certificates" in message
    assert list((tmp_path / "out").iterdir()) == []
    from admin.pki import CertificateAuthority

    [record] = [r for r in CertificateAuthority.open(cli.home / "ca").list_certificates() if r.kind == "client"]
    assert record.revoked_at is not None


def _record_events(cli: Cli) -> None:
    with cli.store() as store:
        store.migrate()
        log = store.audit_log()
        base = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
        for n, (outcome, database) in enumerate([("served", "FLIS Ukraine-101"), ("denied", "FLIS Ukraine-147"), ("served", "FLIS Ukraine-101")]):
            log.record(
                AuditEvent(
                    time=base + dt.timedelta(hours=n), login=LOGIN, cert_fingerprint="ab" * 32, kommune_kode="101",
                    client_address="10.1.1.1", operation="execute", database=database, query=f"q{n}", outcome=outcome,  # type: ignore[arg-type]
                    reason="r", cells=n, duration_ms=1.5, request_id=f"r{n}",
                )
            )


def test_audit_list_export_and_verify(cli: Cli, tmp_path: Path) -> None:
    _record_events(cli)
    listing = cli("audit", "list").output.splitlines()
    assert len(listing) == 4 and "FLIS Ukraine-147" in listing[2]
    documents = [json.loads(line) for line in cli("audit", "list", "--json", "--outcome", "denied").output.splitlines()]
    assert [d["seq"] for d in documents] == [2]
    since = [json.loads(line)["seq"] for line in cli("audit", "list", "--json", "--since", "2025-03-01T13:00").output.splitlines()]
    assert since == [2, 3]
    rows = list(csv.DictReader(io.StringIO(cli("audit", "export", "--format", "csv", "--database", "FLIS Ukraine-101").output)))
    assert [row["seq"] for row in rows] == ["1", "3"]
    target = tmp_path / "trail.jsonl"
    cli("audit", "export", "--format", "jsonl", "--out", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text().splitlines()) == 3
    assert "exists" in cli.fails("audit", "export", "--format", "jsonl", "--out", str(target))
    assert "intact: 3 events" in cli("audit", "verify").output
    with cli.store() as store, store.database.engine.begin() as connection:
        connection.execute(sa.text("update audit_events set outcome = 'served' where seq = 2"))
    assert "row 2 was modified" in cli.fails("audit", "verify")


def test_revoking_a_certificate_the_ca_does_not_know_still_cuts_it_off(with_user: Cli) -> None:
    import hashlib

    with with_user.store() as store:
        from gateway.store import Actor

        now = dt.datetime.now(dt.UTC)
        store.record_certificate(
            Actor.operator("ops"), login=LOGIN, serial=0xABC, fingerprint=hashlib.sha256(b"x").hexdigest(),
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=1),
        )
    message = with_user.fails("user", "cert", "revoke", "ABC", "--reason", "superseded")
    assert "revoked ABC in the store" in message and "not in the CA's CRL" in message
    with with_user.store() as store:
        assert store.principal_for(hashlib.sha256(b"x").hexdigest()) is None
