"""``dataadgang pki ...``: the certificate authority itself (users' certificates are ``user cert``).

``init`` makes the CA, ``server-cert`` the TLS server certificate, ``crl`` publishes the CRL,
``list`` shows the CA's index and ``check`` compares the index and the CRL with the metadata
store (``--repair`` makes them agree). Revoking goes through ``admin.revocation`` only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from cryptography import x509

from admin.pki.ca import CertificateAuthority
from admin.pki.index import CertificateRecord, format_serial
from admin.revocation import Disagreement, find_disagreements, reconcile, revoke_certificate
from gateway.cli.common import cli_actor, open_store
from gateway.settings import Settings


@click.group()
def pki() -> None:
    """The certificate authority: create it, server certificates, CRL, listing, consistency check."""


@pki.command()
@click.option("--common-name", default="dataadgang CA", show_default=True, help="CA subject CN.")
@click.option("--days", default=3650, show_default=True, type=int, help="CA validity in days.")
@click.pass_obj
def init(settings: Settings, common_name: str, days: int) -> None:
    """Create the CA in <home>/ca (key encrypted when DATAADGANG_CA_PASSPHRASE is set)."""
    ca = CertificateAuthority.create(settings.ca_dir, common_name=common_name, valid_days=days)
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
    """Issue a TLS server certificate for HOSTS (DNS names and IP addresses); one it replaces is revoked."""
    settings: Settings = ctx.obj
    out = out_dir if out_dir is not None else settings.home / "tls"
    ca = CertificateAuthority.open(settings.ca_dir)
    replaced = _serial_in(out / "server.crt", ca)
    store = open_store(ctx) if replaced is not None else None  # before anything is written: it must be reachable
    issued = ca.issue_server_certificate(hosts, valid_days=days, out_dir=out, key_passphrase=settings.tls_key_passphrase)
    click.echo(f"issued server certificate {format_serial(issued.serial)} for {', '.join(hosts)}")
    click.echo(f"valid until {issued.not_after:%Y-%m-%d %H:%M} UTC")
    protection = "encrypted with DATAADGANG_TLS_KEY_PASSPHRASE" if settings.tls_key_passphrase else "not encrypted"
    click.echo(f"wrote {out / 'server.crt'} (with CA) and {out / 'server.key'} (0600, {protection})")
    if store is not None and replaced is not None:
        revoke_certificate(store, ca, cli_actor(), replaced, "superseded")
        click.echo(f"revoked the replaced server certificate {format_serial(replaced)} (superseded)")


def _serial_in(path: Path, ca: CertificateAuthority) -> int | None:
    """The serial of the still valid certificate of ours at ``path``, if there is one."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    record = ca.index.read().find(certificate.serial_number)
    return record.serial if record is not None and record.revoked_at is None else None


@pki.command()
@click.option("--if-stale", is_flag=True, help="Only when near nextUpdate or behind the index (for cron).")
@click.pass_context
def crl(ctx: click.Context, if_stale: bool) -> None:
    """Make the store and the CA agree, then publish <home>/ca/crl.pem (nextUpdate one week ahead)."""
    ca = CertificateAuthority.open(ctx.obj.ca_dir)
    for item in reconcile(open_store(ctx), ca, cli_actor()):
        click.echo(f"{'repaired' if item.repair else 'NOT repaired'}: {item}", err=True)
    path = ca.publish_crl_if_stale() if if_stale else ca.publish_crl()
    published = x509.load_pem_x509_crl(ca.crl_path.read_bytes())
    state = "published" if path is not None else "still fresh, kept"
    next_update = f"{published.next_update_utc:%Y-%m-%d %H:%M} UTC" if published.next_update_utc else "none"
    click.echo(f"CRL {state}: {ca.crl_path} ({len(published)} revoked, next update {next_update})")


@pki.command()
@click.option("--repair", is_flag=True, help="Make them agree: revoked on one side means revoked on both.")
@click.pass_context
def check(ctx: click.Context, repair: bool) -> None:
    """Compare the metadata store, the CA index and the CRL; exit 1 when they disagree (and were not repaired)."""
    ca = CertificateAuthority.open(ctx.obj.ca_dir)
    store = open_store(ctx)
    found: list[Disagreement] = (reconcile if repair else find_disagreements)(store, ca, cli_actor())
    for item in found:
        click.echo(f"{'repaired' if repair and item.repair else 'disagrees'}: {item}")
    left = [item for item in found if not (repair and item.repair)]
    if left:
        raise click.ClickException(f"{len(left)} disagreement(s) between the store, the CA index and the CRL")
    click.echo("store, CA index and CRL agree" if not found else f"repaired {len(found)} disagreement(s)")


def _name_of(record: CertificateRecord) -> str:
    if record.kind == "client":
        return record.login or record.subject
    if record.kind == "server":
        return ",".join(record.hostnames) or record.subject
    return record.subject


@pki.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_(settings: Settings, as_json: bool) -> None:
    """List every certificate the CA issued, with status and expiry."""
    records = CertificateAuthority.open(settings.ca_dir).list_certificates()
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
