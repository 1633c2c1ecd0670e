"""A user's certificate as one operation across the CA and the metadata store.

Issuing writes the bundle and records the fingerprint in the store, or leaves nothing behind:
a certificate the store does not know is revoked in the CA and its files deleted. Revoking
cuts the user off in the store first (refused from the next request), then publishes the CRL.
The CLI, the demo and (later) the portal all call these; none repeats the steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from admin.pki import CertificateAuthority, IssuedCertificate, generate_password
from admin.pki.bundle import ClientBundle, default_bundle_name, friendly_name, write_client_bundle
from gateway.store.store import MetadataStore
from gateway.store.views import Actor, CertificateView, UserView
from gateway.errors import UserError


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
    person = store.get_user(actor, login)
    if person.status != "active":
        raise InactiveUserError(f"user '{person.login}' is {person.status}; activate the user first")
    issued = ca.issue_client_certificate(login=person.login, kommune_kode=person.kommune_kode, valid_days=valid_days)
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


def revoke_user_certificate(
    store: MetadataStore, ca_dir: Path, actor: Actor, serial: int, reason: x509.ReasonFlags, reason_text: str
) -> tuple[CertificateView, Path]:
    """Store first (the gateway refuses it from the next request), then the CA's CRL.

    Raises ``admin.pki.PKIError`` or ``OSError`` when only the store step succeeded; the
    caller says so, because the user is cut off either way.
    """
    view = store.revoke_certificate(actor, serial, reason=reason_text)
    ca = CertificateAuthority.open(ca_dir)
    ca.revoke(serial, reason)
    return view, ca.crl_path


@contextmanager
def _revoke_on_failure(ca: CertificateAuthority, serial: int) -> Iterator[None]:
    """A certificate the store does not know must not stay valid in the CA."""
    try:
        yield
    except BaseException:
        ca.revoke(serial, x509.ReasonFlags.cessation_of_operation)
        raise
