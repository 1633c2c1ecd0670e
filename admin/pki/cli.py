"""``dataadgang pki ...``: certificate authority operations for operators.

Every failure is a one-line ``click.ClickException``; tracebacks are for bugs only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from cryptography import x509

from admin.pki.bundle import default_bundle_name, friendly_name, write_client_bundle
from admin.pki.ca import CertificateAuthority, IssuedCertificate
from admin.pki.errors import PKIError
from admin.pki.index import CertificateRecord, format_serial, parse_serial
from admin.pki.pkcs12 import generate_password
from gateway.settings import Settings

REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "privilege-withdrawn": x509.ReasonFlags.privilege_withdrawn,
}


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Turn the errors an operator can cause into a clean message."""
    try:
        yield
    except (PKIError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        detail = error.strerror or str(error)
        where = f"{error.filename}: " if error.filename and str(error.filename) not in detail else ""
        raise click.ClickException(f"{where}{detail}") from None


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    return settings if settings is not None else Settings.from_env()


def _open_ca(ctx: click.Context) -> CertificateAuthority:
    return CertificateAuthority.open(_settings(ctx).ca_dir)


def _serial(text: str) -> int:
    try:
        return parse_serial(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group()
def pki() -> None:
    """Manage the certificate authority and users' certificates."""


@pki.command()
@click.option("--common-name", default="dataadgang CA", show_default=True, help="CA subject CN.")
@click.option("--days", default=3650, show_default=True, type=int, help="CA validity in days.")
@click.pass_context
def init(ctx: click.Context, common_name: str, days: int) -> None:
    """Create the CA in <home>/ca (key encrypted when DATAADGANG_CA_PASSPHRASE is set)."""
    with _one_line_errors():
        ca = CertificateAuthority.create(_settings(ctx).ca_dir, common_name=common_name, valid_days=days)
    click.echo(f"created CA '{common_name}' in {ca.ca_dir}")
    click.echo(f"CA certificate: {ca.ca_cert_path}")
    click.echo(f"CRL:            {ca.crl_path}")
    protection = "encrypted with DATAADGANG_CA_PASSPHRASE" if ca.passphrase else "NOT encrypted"
    click.echo(f"valid until {ca.certificate.not_valid_after_utc:%Y-%m-%d}; CA key {protection}")


@pki.command("server-cert")
@click.argument("hosts", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for server.crt and server.key (default <home>/tls).")
@click.option("--days", default=397, show_default=True, type=int, help="Validity in days (at most 397).")
@click.pass_context
def server_cert(ctx: click.Context, hosts: tuple[str, ...], out_dir: Path | None, days: int) -> None:
    """Issue a TLS server certificate for HOSTS (DNS names and IP addresses)."""
    out = out_dir if out_dir is not None else _settings(ctx).home / "tls"
    with _one_line_errors():
        issued = _open_ca(ctx).issue_server_certificate(hosts, valid_days=days, out_dir=out)
    click.echo(f"issued server certificate {format_serial(issued.serial)} for {', '.join(hosts)}")
    click.echo(f"valid until {issued.not_after:%Y-%m-%d %H:%M} UTC")
    click.echo(f"wrote {out / 'server.crt'} (with CA) and {out / 'server.key'} (0600)")


def _write_user_files(ca: CertificateAuthority, issued: IssuedCertificate, login: str, kommune: str,
                      out_dir: Path, name: str | None) -> None:
    password = generate_password()
    bundle = write_client_bundle(
        issued, ca, out_dir,
        name=name or default_bundle_name(login, kommune, issued.serial),
        password=password,
        friendly=friendly_name(login, kommune),
    )
    click.echo(f"issued client certificate {format_serial(issued.serial)} for {login} (kommune {kommune})")
    click.echo(f"fingerprint sha256 {issued.fingerprint}")
    click.echo(f"valid until {issued.not_after:%Y-%m-%d %H:%M} UTC")
    click.echo(f"wrote {bundle.pkcs12_path}, {bundle.certificate_path}, {bundle.key_path} (0600)")
    click.echo(f"password (PKCS#12 import and .key.pem; shown once, not stored): {password}")


@pki.command()
@click.option("--login", required=True, help="The user's login, e.g. 'komb-fli-prod\\kl_pri'.")
@click.option("--kommune", required=True, help="Three-digit kommune code, e.g. 101.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory for the .p12, .crt.pem and .key.pem files.")
@click.option("--days", default=365, show_default=True, type=int, help="Validity in days (at most 365).")
@click.option("--name", default=None, help="File name stem (default <kommune>-<login>-<serial prefix>).")
@click.pass_context
def issue(ctx: click.Context, login: str, kommune: str, out_dir: Path, days: int, name: str | None) -> None:
    """Issue a user's client certificate as PKCS#12 and PEM; prints the password once."""
    with _one_line_errors():
        ca = _open_ca(ctx)
        issued = ca.issue_client_certificate(login=login, kommune_kode=kommune, valid_days=days)
        _write_user_files(ca, issued, login, kommune, out_dir, name)


@pki.command()
@click.argument("serial")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the new files (default: . for users, <home>/tls for servers).")
@click.option("--days", default=365, show_default=True, type=int, help="Validity of the new certificate.")
@click.option("--name", default=None, help="File name stem for a user certificate.")
@click.pass_context
def renew(ctx: click.Context, serial: str, out_dir: Path | None, days: int, name: str | None) -> None:
    """New key and serial for the certificate SERIAL (hex, as `pki list` shows); the old one stays valid."""
    number = _serial(serial)
    with _one_line_errors():
        ca = _open_ca(ctx)
        old = ca.record(number)
        issued = ca.renew(number, valid_days=days)
        if old.kind == "client" and old.login is not None and old.kommune_kode is not None:
            _write_user_files(ca, issued, old.login, old.kommune_kode, out_dir or Path("."), name)
        else:
            out = out_dir or _settings(ctx).home / "tls"
            ca.write_server_files(issued, out)
            click.echo(f"issued server certificate {format_serial(issued.serial)}")
            click.echo(f"valid until {issued.not_after:%Y-%m-%d %H:%M} UTC")
            click.echo(f"wrote {out / 'server.crt'} and {out / 'server.key'} (0600)")
    click.echo(f"the old certificate {format_serial(number)} stays valid until revoked or expired")


@pki.command()
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(sorted(REASONS)), help="Why (goes into the CRL).")
@click.pass_context
def revoke(ctx: click.Context, serial: str, reason: str) -> None:
    """Revoke the certificate SERIAL and publish a new CRL."""
    number = _serial(serial)
    with _one_line_errors():
        ca = _open_ca(ctx)
        ca.revoke(number, REASONS[reason])
    click.echo(f"revoked {format_serial(number)} ({reason}); CRL published to {ca.crl_path}")


@pki.command()
@click.option("--if-stale", is_flag=True, help="Only when near nextUpdate or behind the index (for cron).")
@click.pass_context
def crl(ctx: click.Context, if_stale: bool) -> None:
    """Publish the CRL to <home>/ca/crl.pem (nextUpdate one week ahead)."""
    with _one_line_errors():
        ca = _open_ca(ctx)
        path = ca.publish_crl_if_stale() if if_stale else ca.publish_crl()
        published = x509.load_pem_x509_crl(ca.crl_path.read_bytes())
    state = "published" if path is not None else "still fresh, kept"
    next_update = f"{published.next_update_utc:%Y-%m-%d %H:%M} UTC" if published.next_update_utc else "none"
    click.echo(f"CRL {state}: {ca.crl_path} ({len(published)} revoked, next update {next_update})")


def _name_of(record: CertificateRecord) -> str:
    if record.kind == "client":
        return record.login or record.subject
    if record.kind == "server":
        return ",".join(record.hostnames) or record.subject
    return record.subject


@pki.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List every certificate the CA issued, with status and expiry."""
    with _one_line_errors():
        records = _open_ca(ctx).list_certificates()
    now = dt.datetime.now(dt.UTC)
    if as_json:
        rows = [{**record.to_json(), "status": record.status(now)} for record in records]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    header = ("SERIAL", "KIND", "STATUS", "NOT AFTER (UTC)", "KOMMUNE", "NAME")
    table = [
        (format_serial(r.serial), r.kind, r.status(now), f"{r.not_after:%Y-%m-%d %H:%M}", r.kommune_kode or "-")
        + (_name_of(r),)
        for r in records
    ]
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header) - 1)]
    for row in (header, *table):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
