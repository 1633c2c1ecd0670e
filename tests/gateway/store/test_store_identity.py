from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from gateway.principal import Role
from gateway.store import Actor, ConflictError, MetadataStore, RecordNotFoundError, ValidationError

LOGIN = "komb-fli-prod\\kl_pri"


def _fingerprint(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


@pytest.fixture
def cert_store(store: MetadataStore, operator: Actor, clock) -> MetadataStore:
    store.onboard_kommune(operator, "101")
    store.add_user(operator, kommune_kode="101", login=LOGIN, roles=frozenset({Role.USER, Role.AUDITOR}))
    store.record_certificate(
        operator,
        login=LOGIN,
        serial=2**150 + 7,  # real serials are ~159 bits
        fingerprint=_fingerprint("one"),
        not_before=clock.now - dt.timedelta(days=1),
        not_after=clock.now + dt.timedelta(days=365),
    )
    return store


def test_known_certificate_resolves_to_its_principal(cert_store: MetadataStore, clock) -> None:
    principal = cert_store.principal_for(_fingerprint("one"))
    assert principal is not None
    assert principal.login == LOGIN and principal.kommune_kode == "101"
    assert principal.roles == frozenset({Role.USER, Role.AUDITOR})
    assert principal.cert_serial == 2**150 + 7
    assert principal.cert_not_after == clock.now + dt.timedelta(days=365)
    assert principal.cert_not_after.tzinfo is not None


def test_unknown_certificate_has_no_principal(cert_store: MetadataStore) -> None:
    assert cert_store.principal_for(_fingerprint("other")) is None


def test_revoked_certificate_has_no_principal_and_is_listed(cert_store: MetadataStore, operator: Actor) -> None:
    revision = cert_store.revision()
    revoked = cert_store.revoke_certificate(operator, 2**150 + 7, reason="key_compromise")
    assert revoked.revocation_reason == "key_compromise"
    assert cert_store.revision() > revision
    assert cert_store.principal_for(_fingerprint("one")) is None
    assert cert_store.revoked_fingerprints() == frozenset({_fingerprint("one")})
    with pytest.raises(ConflictError):
        cert_store.revoke_certificate(operator, 2**150 + 7, reason="again")


def test_certificate_outside_its_validity_has_no_principal(cert_store: MetadataStore, clock) -> None:
    assert cert_store.principal_for(_fingerprint("one"), now=clock.now - dt.timedelta(days=2)) is None
    clock.advance(days=365)
    assert cert_store.principal_for(_fingerprint("one")) is None


def test_suspended_user_has_no_principal_until_activated(cert_store: MetadataStore, operator: Actor) -> None:
    cert_store.suspend_user(operator, LOGIN)
    assert cert_store.principal_for(_fingerprint("one")) is None
    cert_store.activate_user(operator, LOGIN)
    assert cert_store.principal_for(_fingerprint("one")) is not None


def test_offboarded_kommune_users_have_no_principal(cert_store: MetadataStore, operator: Actor) -> None:
    revision = cert_store.revision()
    cert_store.offboard_kommune(operator, "101")
    assert cert_store.revision() > revision
    assert cert_store.principal_for(_fingerprint("one")) is None


def test_certificate_records_are_validated(cert_store: MetadataStore, operator: Actor, clock) -> None:
    good = {"login": LOGIN, "serial": 99, "not_before": clock.now, "not_after": clock.now + dt.timedelta(days=1)}
    with pytest.raises(ValidationError, match="64 hex digits"):
        cert_store.record_certificate(operator, fingerprint="abc", **good)  # type: ignore[arg-type]
    with pytest.raises(ConflictError, match="already recorded"):
        cert_store.record_certificate(operator, fingerprint=_fingerprint("one"), **good)  # type: ignore[arg-type]
    with pytest.raises(RecordNotFoundError):
        cert_store.record_certificate(operator, fingerprint=_fingerprint("x"), **{**good, "login": "a\\b"})  # type: ignore[arg-type]
    cert_store.suspend_user(operator, LOGIN)
    with pytest.raises(ValidationError, match="is suspended"):
        cert_store.record_certificate(operator, fingerprint=_fingerprint("x"), **good)  # type: ignore[arg-type]


def test_listing_shows_status(cert_store: MetadataStore, operator: Actor, clock) -> None:
    [certificate] = cert_store.list_certificates(operator, LOGIN)
    assert certificate.status(clock.now) == "valid"
    cert_store.revoke_certificate(operator, certificate.serial, reason="superseded")
    assert cert_store.list_certificates(operator, LOGIN)[0].status(clock.now) == "revoked"


def test_officer_of_another_kommune_cannot_revoke(cert_store: MetadataStore, officer_of) -> None:
    with pytest.raises(RecordNotFoundError):
        cert_store.revoke_certificate(officer_of("147"), 2**150 + 7, reason="x")
    assert cert_store.revoked_fingerprints() == frozenset()
