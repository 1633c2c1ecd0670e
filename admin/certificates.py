"""A user's certificate as one operation across the CA and the metadata store.

Issuing writes the bundle and records the fingerprint in the store, or leaves nothing behind:
a certificate the store does not know is revoked in the CA and its files deleted. Renewing
issues the same way and then revokes the old certificate as superseded. Revoking is
:func:`admin.revocation.revoke_certificate`. The CLI, the demo and the portal all call these;
none repeats the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from admin.pki import CertificateAuthority, IssuedCertificate, generate_password
from admin.pki.bundle import ClientBundle, default_bundle_name, friendly_name, write_client_bundle
from admin.pki.index import format_serial
from admin.revocation import Revocation, revoke_certificate
from gateway.errors import UserError
from gateway.store.errors import ConflictError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor, UserView


class InactiveUserError(UserError):
    code = "INVALID"


@dataclass(frozen=True)
class IssuedUserCertificate:
    user: UserView
    issued: IssuedCertificate
    bundle: ClientBundle
    password: str  # shown once to whoever issued it; never stored


def issue_user_certificate(
    store: MetadataStore,
    ca: CertificateAuthority,
    actor: Actor,
    login: str,
    out_dir: Path,
    *,
    valid_days: int = 365,
    bundle_name: str | None = None,
) -> IssuedUserCertificate:
    """A new certificate for an active user: signed, written as PKCS#12 + PEM, recorded in the store."""
    person = store.get_user(actor, login)
    return _issue(
        store, ca, actor, person, out_dir, bundle_name,
        sign=lambda: ca.issue_client_certificate(login=person.login, kommune_kode=person.kommune_kode, valid_days=valid_days),
    )


@dataclass(frozen=True)
class RenewedUserCertificate:
    renewed: IssuedUserCertificate
    superseded: Revocation | None  # None when the old certificate was kept until it expires


def renew_user_certificate(
    store: MetadataStore,
    ca: CertificateAuthority,
    actor: Actor,
    serial: int,
    out_dir: Path,
    *,
    valid_days: int = 365,
    bundle_name: str | None = None,
    keep_old: bool = False,
) -> RenewedUserCertificate:
    """New key and serial for the same user; the old certificate is revoked as superseded unless ``keep_old``."""
    old = store.get_certificate(actor, serial)
    if old.revoked_at is not None:
        raise ConflictError(f"certificate {format_serial(serial)} is revoked; issue a new one instead of renewing", code="CERTIFICATE_REVOKED")
    person = store.get_user(actor, old.login)
    renewed = _issue(store, ca, actor, person, out_dir, bundle_name, sign=lambda: ca.renew(serial, valid_days=valid_days))
    superseded = None if keep_old else revoke_certificate(store, ca, actor, serial, "superseded")
    return RenewedUserCertificate(renewed=renewed, superseded=superseded)


def _issue(
    store: MetadataStore,
    ca: CertificateAuthority,
    actor: Actor,
    person: UserView,
    out_dir: Path,
    bundle_name: str | None,
    *,
    sign: Callable[[], IssuedCertificate],
) -> IssuedUserCertificate:
    if person.status != "active":
        raise InactiveUserError(f"user '{person.login}' is {person.status}; activate the user first")
    issued = sign()
    password = generate_password()
    with _revoke_on_failure(ca, issued.serial):
        bundle = write_client_bundle(
            issued,
            ca,
            out_dir,
            name=bundle_name or default_bundle_name(person.login, person.kommune_kode, issued.serial),
            password=password,
            friendly=friendly_name(person.login, person.kommune_kode),
        )
        try:
            store.record_certificate(
                actor,
                login=person.login,
                serial=issued.serial,
                fingerprint=issued.fingerprint,
                not_before=issued.not_before,
                not_after=issued.not_after,
            )
        except BaseException:
            for path in (bundle.pkcs12_path, bundle.certificate_path, bundle.key_path):
                path.unlink(missing_ok=True)
            raise
    return IssuedUserCertificate(user=person, issued=issued, bundle=bundle, password=password)


@contextmanager
def _revoke_on_failure(ca: CertificateAuthority, serial: int) -> Iterator[None]:
    """A certificate the store does not know must not stay valid in the CA.

    The one CA-only revocation outside :func:`admin.revocation.revoke_certificate`: the store has
    no record to revoke. If this process dies before it runs, ``reconcile`` does the same.
    """
    try:
        yield
    except BaseException:
        ca.revoke(serial, x509.ReasonFlags.cessation_of_operation)
        raise
