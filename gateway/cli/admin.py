"""Operator and security-officer commands: kommuner, users, their certificates, grants.

The CLI acts as an operator (whoever has a shell on the server is one). Each command opens the
metadata store at ``settings.resolved_metadata_url`` and migrates it on first use; errors become
one line in ``gateway.cli.errors``. Certificates go through ``admin.certificates`` and
``admin.revocation``, the same functions the portal calls.
"""

from __future__ import annotations

import datetime as dt

from pathlib import Path

import click

from admin.certificates import IssuedUserCertificate, issue_user_certificate, renew_user_certificate
from admin.pki import CertificateAuthority
from admin.pki.index import format_serial, parse_serial
from admin.revocation import REASONS, revoke_certificate
from gateway.cli.common import cli_actor, echo_table, open_store, parse_when, settings_of, stamp
from gateway.principal import Role
from gateway.settings import Settings

ROLE_CHOICE = click.Choice([role.value for role in Role])


def valid_area_ids(settings: Settings) -> frozenset[str]:
    """The data areas grants may name: those defined in the schema directory."""
    from gateway.model import load_catalog

    return frozenset(load_catalog(settings.schema_dir).areas)


# -- kommune ----------------------------------------------------------------------------------
@click.group()
def kommune() -> None:
    """Onboard kommuner (they must be onboarded before they get users)."""


@kommune.command("onboard")
@click.argument("kode")
@click.pass_context
def kommune_onboard(ctx: click.Context, kode: str) -> None:
    """Record that kommune KODE has signed the agreement."""
    store = open_store(ctx)
    view = store.onboard_kommune(cli_actor(), kode)
    click.echo(f"onboarded kommune {view.kode} {view.navn}")


@kommune.command("offboard")
@click.argument("kode")
@click.pass_context
def kommune_offboard(ctx: click.Context, kode: str) -> None:
    """End kommune KODE's agreement: its users are refused from their next request."""
    store = open_store(ctx)
    view = store.offboard_kommune(cli_actor(), kode)
    click.echo(f"offboarded kommune {view.kode} {view.navn}")


@kommune.command("list")
@click.option("--onboarded", is_flag=True, help="Only onboarded kommuner.")
@click.pass_context
def kommune_list(ctx: click.Context, onboarded: bool) -> None:
    """List kommuner with their onboarding date."""
    views = open_store(ctx).list_kommuner(onboarded_only=onboarded)
    echo_table(("KODE", "NAVN", "REGION", "ONBOARDED"), [(k.kode, k.navn, k.region, stamp(k.onboarded_at)) for k in views])


# -- user -------------------------------------------------------------------------------------
@click.group()
def user() -> None:
    """Users of a kommune and their certificates."""


@user.command("add")
@click.option("--kommune", "kommune_kode", required=True, help="Three-digit kommune code, e.g. 101.")
@click.option("--login", required=True, help="domain\\user, e.g. 'komb-fli-prod\\kl_pri'.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Repeatable; default 'user'.")
@click.pass_context
def user_add(ctx: click.Context, kommune_kode: str, login: str, display_name: str, roles: tuple[str, ...]) -> None:
    """Create a user of an onboarded kommune."""
    store = open_store(ctx)
    chosen = frozenset(Role(role) for role in roles) or frozenset({Role.USER})
    view = store.add_user(cli_actor(), kommune_kode=kommune_kode, login=login, display_name=display_name, roles=chosen)
    click.echo(f"added user {view.login} (kommune {view.kommune_kode}, roles {', '.join(sorted(r.value for r in view.roles))})")


@user.command("suspend")
@click.argument("login")
@click.pass_context
def user_suspend(ctx: click.Context, login: str) -> None:
    """Suspend LOGIN: refused from the next request on, whatever certificate they hold."""
    store = open_store(ctx)
    view = store.suspend_user(cli_actor(), login)
    click.echo(f"suspended {view.login}")


@user.command("activate")
@click.argument("login")
@click.pass_context
def user_activate(ctx: click.Context, login: str) -> None:
    """Re-activate a suspended user."""
    store = open_store(ctx)
    view = store.activate_user(cli_actor(), login)
    click.echo(f"activated {view.login}")


@user.command("list")
@click.option("--kommune", "kommune_kode", default=None, help="Only this kommune's users.")
@click.pass_context
def user_list(ctx: click.Context, kommune_kode: str | None) -> None:
    """List users."""
    store = open_store(ctx)
    views = store.list_users(cli_actor(), kommune_kode=kommune_kode)
    echo_table(
        ("KOMMUNE", "LOGIN", "NAME", "ROLES", "STATUS", "CREATED"),
        [(u.kommune_kode, u.login, u.display_name, ",".join(sorted(r.value for r in u.roles)), u.status, stamp(u.created_at)) for u in views],
    )


# -- grant ------------------------------------------------------------------------------------
@click.group()
def grant() -> None:
    """Grants of data areas to users."""


@grant.command("add")
@click.argument("login")
@click.argument("area")
@click.option("--level", type=click.Choice(["aggregated", "individual"]), default="aggregated", show_default=True)
@click.option("--from", "valid_from", default=None, help="Start (ISO date/time, UTC; default now).")
@click.option("--to", "valid_to", default=None, help="End, exclusive (ISO date/time, UTC; default open-ended).")
@click.option("--purpose", required=True, help="Why the user needs the data (kept with the grant).")
@click.pass_context
def grant_add(ctx: click.Context, login: str, area: str, level: str, valid_from: str | None, valid_to: str | None, purpose: str) -> None:
    """Grant LOGIN the data area AREA (an area id such as 'ukraine')."""
    store = open_store(ctx)
    start, end = parse_when(valid_from), parse_when(valid_to)
    areas = valid_area_ids(settings_of(ctx))
    view = store.add_grant(
        cli_actor(), login=login, area=area, valid_areas=areas, purpose=purpose, level=level, valid_from=start, valid_to=end
    )
    click.echo(f"grant #{view.id}: {view.login} may use '{view.area}' ({view.level}) from {stamp(view.valid_from)} to {stamp(view.valid_to)}")


@grant.command("approve")
@click.argument("grant_id", type=int)
@click.pass_context
def grant_approve(ctx: click.Context, grant_id: int) -> None:
    """Approve individual-level grant GRANT_ID (four-eyes: not by whoever granted it)."""
    store = open_store(ctx)
    view = store.approve_grant(cli_actor(), grant_id)
    click.echo(f"approved grant #{view.id} ({view.login}, '{view.area}', {view.level})")


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.pass_context
def grant_revoke(ctx: click.Context, grant_id: int) -> None:
    """Revoke grant GRANT_ID; it stops working on the next request."""
    store = open_store(ctx)
    view = store.revoke_grant(cli_actor(), grant_id)
    click.echo(f"revoked grant #{view.id} ({view.login}, '{view.area}')")


@grant.command("list")
@click.option("--login", default=None)
@click.option("--kommune", "kommune_kode", default=None)
@click.option("--active", is_flag=True, help="Hide revoked grants.")
@click.option("--awaiting", is_flag=True, help="Only individual-level grants awaiting a second officer's approval.")
@click.option("--expiring-days", type=click.IntRange(1, 3650), default=None,
              help="Only grants in force that end within this many days (recertification).")
@click.pass_context
def grant_list(
    ctx: click.Context, login: str | None, kommune_kode: str | None, active: bool, awaiting: bool, expiring_days: int | None
) -> None:
    """List grants with their status now."""
    store = open_store(ctx)
    views = store.list_grants(
        cli_actor(), login=login, kommune_kode=kommune_kode, include_revoked=not active, awaiting_approval=awaiting,
        expiring_within=None if expiring_days is None else dt.timedelta(days=expiring_days),
    )
    now = store.now()
    echo_table(
        ("ID", "LOGIN", "AREA", "LEVEL", "FROM", "TO", "STATUS", "BY", "PURPOSE"),
        [
            (str(g.id), g.login, g.area, g.level, stamp(g.valid_from), stamp(g.valid_to), g.status(now), g.granted_by, g.purpose)
            for g in views
        ],
    )


# -- user cert ---------------------------------------------------------------------------------
@user.group("cert")
def cert() -> None:
    """Client certificates: issued by our CA and recorded in the store in one operation."""


def _serial(text: str) -> int:
    try:
        return parse_serial(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="SERIAL") from None


def _open_ca(ctx: click.Context, *, create: bool = False) -> CertificateAuthority:
    ca_dir = settings_of(ctx).ca_dir
    return CertificateAuthority.open_or_create(ca_dir) if create else CertificateAuthority.open(ca_dir)


def _echo_issued(result: IssuedUserCertificate) -> None:
    issued, bundle, person = result.issued, result.bundle, result.user
    click.echo(f"issued certificate {format_serial(issued.serial)} to {person.login} (kommune {person.kommune_kode})")
    click.echo(f"fingerprint sha256 {issued.fingerprint}; valid until {stamp(issued.not_after)} UTC")
    click.echo(f"wrote {bundle.pkcs12_path}, {bundle.certificate_path}, {bundle.key_path} (0600)")
    click.echo(f"PKCS#12 password (shown once, not stored): {result.password}")


_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                    show_default=True, help="Directory for the .p12, .crt.pem and .key.pem files (mode 0600).")
_DAYS = click.option("--days", default=365, show_default=True, type=int, help="Validity in days (at most 365).")
_NAME = click.option("--name", "bundle_name", default=None, help="File name stem (default <kommune>-<login>-<serial prefix>).")


@cert.command("issue")
@click.argument("login")
@_OUT
@_DAYS
@_NAME
@click.pass_context
def cert_issue(ctx: click.Context, login: str, out_dir: Path, days: int, bundle_name: str | None) -> None:
    """Issue LOGIN a client certificate; prints the PKCS#12 password once."""
    store, actor = open_store(ctx), cli_actor()
    store.get_user(actor, login)  # an unknown login must not leave a new CA behind (the CA is made on first use)
    result = issue_user_certificate(
        store, _open_ca(ctx, create=True), actor, login, out_dir, valid_days=days, bundle_name=bundle_name
    )
    _echo_issued(result)


@cert.command("renew")
@click.argument("serial")
@_OUT
@_DAYS
@_NAME
@click.option("--keep-old", is_flag=True, help="Let the old certificate run until it expires instead of revoking it.")
@click.pass_context
def cert_renew(ctx: click.Context, serial: str, out_dir: Path, days: int, bundle_name: str | None, keep_old: bool) -> None:
    """New key and serial for certificate SERIAL's user; the old one is revoked (superseded)."""
    number = _serial(serial)
    store = open_store(ctx)
    result = renew_user_certificate(
        store, _open_ca(ctx), cli_actor(), number, out_dir, valid_days=days, bundle_name=bundle_name, keep_old=keep_old
    )
    _echo_issued(result.renewed)
    if result.superseded is None:
        click.echo(f"the old certificate {format_serial(number)} stays valid until it expires")
    else:
        click.echo(f"revoked the old certificate {format_serial(number)} (superseded); CRL published to {result.superseded.crl_path}")


@cert.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(sorted(REASONS)), help="Why (kept and put in the CRL).")
@click.pass_context
def cert_revoke(ctx: click.Context, serial: str, reason: str) -> None:
    """Revoke certificate SERIAL (hex): refused from the next request; store, CA index and CRL together."""
    number = _serial(serial)
    store = open_store(ctx)
    done = revoke_certificate(store, settings_of(ctx).ca_dir, cli_actor(), number, reason)
    whose = f" of {done.login}" if done.login else ""
    finished = " (finished an earlier revocation that stopped before the CA)" if done.completed_earlier_revocation else ""
    crl = f"CRL published to {done.crl_path}" if done.crl_path else "not in this CA's index, so not in its CRL"
    click.echo(f"revoked certificate {format_serial(number)}{whose} ({reason}){finished}; {crl}")


@cert.command("list")
@click.argument("login")
@click.pass_context
def cert_list(ctx: click.Context, login: str) -> None:
    """List LOGIN's certificates with their status now."""
    store = open_store(ctx)
    views = store.list_certificates(cli_actor(), login)
    now = store.now()
    echo_table(
        ("SERIAL", "STATUS", "NOT AFTER", "FINGERPRINT", "REASON"),
        [(format_serial(c.serial), c.status(now), stamp(c.not_after), c.fingerprint, c.revocation_reason or "-") for c in views],
    )


# -- access -----------------------------------------------------------------------------------
@click.group()
def access() -> None:
    """Why a user may or may not read a database."""


@access.command("explain")
@click.argument("login")
@click.argument("database")
@click.pass_context
def access_explain(ctx: click.Context, login: str, database: str) -> None:
    """Which rule allows or denies LOGIN reading DATABASE (the gateway's own decision)."""
    from admin.access_explain import explain_access
    from gateway.model import load_catalog

    store, actor = open_store(ctx), cli_actor()
    person = store.get_user(actor, login)
    answer = explain_access(store, load_catalog(settings_of(ctx).schema_dir), actor, user_id=person.id, database=database)
    for label, decision in (("read", answer.read), ("individual level", answer.individual)):
        click.echo(f"{label}: {'allowed' if decision.allowed else 'denied'}: {decision.reason}")
