"""The one way a certificate stops working: metadata store, CA index and CRL, always together.

Every path that takes a certificate away (``user cert revoke``, ``user cert renew``,
``pki server-cert`` replacing a server certificate, the demo, the portal) calls
:func:`revoke_certificate`; nothing else revokes. The order of the writes is chosen for a crash
between them:

1. the **store** first: every gateway worker asks it on every request, so the certificate is
   refused from the next request on, whatever happens after;
2. then the **CA index and the CRL**, in one step under the CA's lock (``CertificateAuthority.revoke``).

A crash between the two leaves "revoked in the store, valid in the CA". That is safe (the gateway
refuses it) and is repaired by :func:`reconcile`, which ``dataadgang pki check --repair`` and
every ``dataadgang pki crl`` run: a certificate revoked on either side is revoked on both, a client
certificate the store never recorded (an interrupted issue) is revoked in the CA, and the CRL is
republished when it no longer matches the index. The gateway also reads the CRL on every request
(``gateway.identity.crl``), so whichever side knows of a revocation, the certificate is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from admin.pki.ca import CLOCK_SKEW, CertificateAuthority
from admin.pki.crl import crl_is_stale, load_crl
from admin.pki.errors import PKIError
from admin.pki.hook import PublishHookError
from admin.pki.index import CertificateRecord, format_serial
from gateway.store.errors import ConflictError, ForbiddenError, RecordNotFoundError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor, CertificateView

# The reasons an operator or officer may give (RFC 5280 names, as the CLI spells them).
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "privilege-withdrawn": x509.ReasonFlags.privilege_withdrawn,
}
_NAME_OF_FLAG = {flag: name for name, flag in REASONS.items()}
# A client certificate the store has not recorded is an interrupted issue only after this long;
# before that it may be an issue still in flight (signed, its files being written).
ISSUE_GRACE = dt.timedelta(minutes=15)


class RevocationError(PKIError):
    """A revocation that cannot be made as asked (unknown reason, the CA's own certificate...)."""


class PartialRevocationError(PKIError):
    """Revoked in the store (so refused from the next request) but not in the CA index and CRL."""


@dataclass(frozen=True)
class Revocation:
    """What :func:`revoke_certificate` did. ``login`` is None for a server certificate."""

    serial: int
    login: str | None
    reason: str
    crl_path: Path | None  # None: the CA does not know the certificate (another CA issued it)
    completed_earlier_revocation: bool = False  # the store had it revoked already; the CA step was missing


def reason_flag(reason: str) -> x509.ReasonFlags:
    try:
        return REASONS[reason]
    except KeyError:
        raise RevocationError(f"unknown revocation reason {reason!r}; one of {', '.join(sorted(REASONS))}") from None


def revoke_certificate(
    store: MetadataStore, ca: CertificateAuthority | Path, actor: Actor, serial: int, reason: str
) -> Revocation:
    """Revoke ``serial`` in the store (refused from the next request), then in the CA index and CRL.

    ``ca`` is the CA or its directory. User certificates need an actor who may manage the user
    (``require_manage``); certificates the store does not know (server certificates, an issue
    interrupted before it was recorded) only an operator may revoke. Raises ``ConflictError``
    when it is revoked everywhere already, and :class:`PartialRevocationError` when the CA cannot
    be used (missing, key passphrase not set): the store step is done then, and
    ``dataadgang pki check --repair`` finishes the rest later.
    """
    flag = reason_flag(reason)
    authority, record, ca_problem = _open_and_find(ca, serial)
    if record is not None and record.kind == "ca":
        raise RevocationError("the CA certificate cannot revoke itself; make a new CA instead")
    try:
        known = store.get_certificate(actor, serial)
    except RecordNotFoundError:
        if ca_problem is not None:
            raise PKIError(ca_problem) from None
        if record is None or not actor.is_operator:
            raise
        known = None
    completed = False
    if known is not None:
        if known.revoked_at is None:
            store.revoke_certificate(actor, serial, reason=reason)
        elif record is None or record.revoked_at is not None:
            raise ConflictError(f"certificate {format_serial(serial)} was already revoked on {known.revoked_at:%Y-%m-%d %H:%M} UTC", code="CERTIFICATE_REVOKED")
        else:
            completed = True  # an earlier revocation stopped after the store step: finish it
    if authority is not None and record is not None:
        if record.revoked_at is None:
            try:
                _revoke_in_ca(authority, serial, flag)
            except PublishHookError:
                raise  # revoked in both; only passing the CRL on failed, and the message says so
            except (PKIError, OSError) as error:
                ca_problem = str(error)
        elif known is None:
            raise ConflictError(f"certificate {format_serial(serial)} was already revoked on {record.revoked_at:%Y-%m-%d %H:%M} UTC", code="CERTIFICATE_REVOKED")
    if ca_problem is not None:
        raise PartialRevocationError(
            f"revoked {format_serial(serial)} in the store (refused from the next request), but not in the CA's CRL: "
            f"{ca_problem}; run `dataadgang pki check --repair` when the CA can be used"
        )
    return Revocation(
        serial=serial,
        login=known.login if known is not None else None,
        reason=reason,
        crl_path=authority.crl_path if authority is not None and record is not None else None,
        completed_earlier_revocation=completed,
    )


def _open_and_find(
    ca: CertificateAuthority | Path, serial: int
) -> tuple[CertificateAuthority | None, CertificateRecord | None, str | None]:
    """(the CA, its record of ``serial``, None), or (None, None, why the CA cannot be used)."""
    try:
        authority = ca if isinstance(ca, CertificateAuthority) else CertificateAuthority.open(ca)
        return authority, authority.index.read().find(serial), None
    except (PKIError, OSError) as error:
        return None, None, str(error)


# -- keeping the two sides in agreement ----------------------------------------------------------
@dataclass(frozen=True)
class Disagreement:
    """One way the store, the CA index and the CRL differ, and what :func:`reconcile` does about it."""

    serial: int | None  # None: the CRL as a whole
    problem: str
    repair: str  # empty when only a person can decide

    def __str__(self) -> str:
        where = f"certificate {format_serial(self.serial)}" if self.serial is not None else "CRL"
        action = f" -> {self.repair}" if self.repair else " -> needs a decision (not repaired)"
        return f"{where}: {self.problem}{action}"


def _revoke_in_ca(ca: CertificateAuthority, serial: int, flag: x509.ReasonFlags) -> None:
    """Idempotent: a concurrent ``reconcile`` may have revoked it in the CA a moment ago."""
    try:
        ca.revoke(serial, flag)
    except PublishHookError:
        raise
    except PKIError:
        if ca.record(serial).revoked_at is None:
            raise


def _revoke_in_store(store: MetadataStore, actor: Actor, serial: int, reason: str) -> None:
    """Idempotent, like :func:`_revoke_in_ca`."""
    try:
        store.revoke_certificate(actor, serial, reason=reason)
    except ConflictError:
        if store.get_certificate(actor, serial).revoked_at is None:
            raise


def find_disagreements(store: MetadataStore, ca: CertificateAuthority, actor: Actor) -> list[Disagreement]:
    """Everything that differs between the store, the CA index and the published CRL (operators only:
    the comparison needs every kommune's certificates)."""
    if not actor.is_operator:
        raise ForbiddenError(f"'{actor.login}' is not an operator; only operators compare the store with the CA")
    now = store.now()
    state = ca.index.read()
    in_store = {view.serial: view for view in store.all_certificates(actor)}
    found: list[Disagreement] = []
    for record in state.records:
        if record.kind != "client":
            continue
        view = in_store.get(record.serial)
        if view is None:
            issued_at = record.not_before + CLOCK_SKEW  # the CA backdates notBefore by CLOCK_SKEW
            if record.revoked_at is None and record.not_after > now and now - issued_at > ISSUE_GRACE:
                found.append(Disagreement(record.serial, "a valid client certificate the store never recorded",
                                          "revoke it in the CA (cessation-of-operation)"))
            continue
        if view.fingerprint != record.fingerprint:
            found.append(Disagreement(record.serial, "store and CA hold different fingerprints for this serial",
                                      "revoke it in both (key-compromise)"))
        elif view.revoked_at is not None and record.revoked_at is None:
            found.append(Disagreement(record.serial, f"revoked in the store ({view.revocation_reason}) but not in the CA",
                                      "revoke it in the CA and publish the CRL"))
        elif record.revoked_at is not None and view.revoked_at is None:
            found.append(Disagreement(record.serial, "revoked in the CA but not in the store", "revoke it in the store"))
    for serial, view in in_store.items():
        if state.find(serial) is None and view.revoked_at is None and view.not_after > now:
            found.append(Disagreement(serial, f"valid in the store ({view.login}) but unknown to this CA", ""))
    if crl_is_stale(load_crl(ca.crl_path), ca.certificate, state.records, now=now):
        found.append(Disagreement(None, "missing, badly signed, near its nextUpdate or behind the index", "publish it"))
    return found


def reconcile(store: MetadataStore, ca: CertificateAuthority, actor: Actor) -> list[Disagreement]:
    """Repair what :func:`find_disagreements` finds (revoked on one side means revoked on both).

    Returns every disagreement found; those with an empty ``repair`` were left for a person.
    Safe to run at any time and repeatedly; operators only.
    """
    found = find_disagreements(store, ca, actor)
    for item in found:
        if item.serial is None or not item.repair:
            continue
        record = ca.record(item.serial)
        view = _store_view(store, actor, item.serial)
        if view is not None and view.fingerprint != record.fingerprint:
            _revoke_in_store(store, actor, item.serial, "key-compromise")
            _revoke_in_ca(ca, item.serial, x509.ReasonFlags.key_compromise)
        elif view is None:
            _revoke_in_ca(ca, item.serial, x509.ReasonFlags.cessation_of_operation)
        elif view.revoked_at is not None:
            _revoke_in_ca(ca, item.serial, REASONS.get(view.revocation_reason or "", x509.ReasonFlags.unspecified))
        else:
            reason = _NAME_OF_FLAG.get(record.revocation_reason or x509.ReasonFlags.unspecified, "unspecified")
            _revoke_in_store(store, actor, item.serial, reason)
    if found:
        ca.publish_crl_if_stale()  # after the repairs above, so it lists them
    return found


def _store_view(store: MetadataStore, actor: Actor, serial: int) -> CertificateView | None:
    try:
        return store.get_certificate(actor, serial)
    except RecordNotFoundError:
        return None
