"""Four-eyes on person data: an individual-level grant counts only after a second officer approved it,
lasts at most the configured maximum, and the recertification list shows grants about to end."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.access import Action, decide
from gateway.model.catalog import DatabaseRef
from gateway.principal import Principal, Role
from gateway.store import Actor, ConflictError, MetadataStore, RecordNotFoundError, ValidationError

LOGIN = "komb-fli-prod\\kl_pri"
AREAS = frozenset({"ukraine", "voksenhandicap"})
VH_101 = DatabaseRef("FLIS Voksne Handicappede-101", "voksenhandicap", "FLIS DAP Voksenhandicap", "101")


@pytest.fixture
def onboarded(store: MetadataStore, operator: Actor, officer_of) -> MetadataStore:
    for kode in ("101", "147"):
        store.onboard_kommune(operator, kode)
    store.add_user(operator, kommune_kode="101", login=LOGIN)
    return store


def _individual(store: MetadataStore, actor: Actor, **kw: object):
    return store.add_grant(
        actor, login=LOGIN, area="voksenhandicap", valid_areas=AREAS, purpose="Sagsbehandling", level="individual", **kw
    )  # type: ignore[arg-type]


def _principal(store: MetadataStore, clock) -> Principal:
    user = store.get_user(Actor.operator("t"), LOGIN)
    return Principal(user.id, user.login, "101", frozenset({Role.USER}), "0" * 64, 1, clock.now + dt.timedelta(days=400))


def test_individual_grant_waits_for_a_second_officer_and_then_counts(onboarded: MetadataStore, officer_of, clock) -> None:
    first, second = officer_of("101"), Actor(login="komb-fli-prod\\k101_so2", roles=frozenset({Role.SECURITY_OFFICER}), kommune_kode="101")
    grant = _individual(onboarded, first)
    assert grant.awaiting_approval and grant.status(clock.now) == "awaiting approval"
    principal = _principal(onboarded, clock)
    denied = decide(principal, VH_101, Action.EXECUTE, onboarded.grants_for(principal), now=clock.now)
    assert not denied.allowed and not denied.person_level
    assert [g.id for g in onboarded.list_grants(first, awaiting_approval=True)] == [grant.id]

    approved = onboarded.approve_grant(second, grant.id)
    assert (approved.approved_by, approved.approved_at, approved.status(clock.now)) == (second.login, clock.now, "active")
    allowed = decide(principal, VH_101, Action.EXECUTE, onboarded.grants_for(principal), now=clock.now)
    assert allowed.person_level and f"grant #{grant.id}" in allowed.reason
    assert onboarded.list_grants(first, awaiting_approval=True) == []
    operations = [r.event.operation for r in onboarded.audit_log().query()][-2:]
    assert operations == ["admin.grant.add", "admin.grant.approve"]


def test_the_officer_who_granted_cannot_approve_it(onboarded: MetadataStore, officer_of) -> None:
    grant = _individual(onboarded, officer_of("101"))
    before = len(onboarded.audit_log().query())
    with pytest.raises(ValidationError, match="another officer"):
        onboarded.approve_grant(officer_of("101"), grant.id)
    assert onboarded.get_grant(officer_of("101"), grant.id).awaiting_approval
    assert len(onboarded.audit_log().query()) == before


def test_another_kommunes_officer_sees_no_such_grant(onboarded: MetadataStore, officer_of) -> None:
    grant = _individual(onboarded, officer_of("101"))
    with pytest.raises(RecordNotFoundError) as other:
        onboarded.approve_grant(officer_of("147"), grant.id)
    with pytest.raises(RecordNotFoundError) as missing:
        onboarded.approve_grant(officer_of("147"), grant.id + 1000)
    assert str(other.value) == str(missing.value).replace(str(grant.id + 1000), str(grant.id))
    assert onboarded.get_grant(officer_of("101"), grant.id).awaiting_approval


def test_aggregated_grants_need_no_approval(onboarded: MetadataStore, officer_of) -> None:
    grant = onboarded.add_grant(officer_of("101"), login=LOGIN, area="ukraine", valid_areas=AREAS, purpose="Rapport")
    assert not grant.awaiting_approval
    with pytest.raises(ConflictError, match="needs no approval"):
        onboarded.approve_grant(Actor.operator("ops\\other"), grant.id)


def test_individual_grants_last_at_most_the_maximum(onboarded: MetadataStore, officer_of, clock) -> None:
    open_ended = _individual(onboarded, officer_of("101"))
    assert open_ended.valid_to == clock.now + dt.timedelta(days=365)
    with pytest.raises(ValidationError, match="at most 365 days"):
        _individual(onboarded, officer_of("101"), valid_to=clock.now + dt.timedelta(days=366))


def test_maximum_validity_is_configurable(metadata_url: str, clock, operator: Actor, audit_seal) -> None:
    with MetadataStore(metadata_url, seal=audit_seal, clock=clock, max_individual_grant_validity=dt.timedelta(days=90)) as store:
        store.migrate()
        store.onboard_kommune(operator, "101")
        store.add_user(operator, kommune_kode="101", login=LOGIN)
        grant = _individual(store, operator)
        assert grant.valid_to == clock.now + dt.timedelta(days=90)


def test_recertification_lists_grants_ending_within_the_window(onboarded: MetadataStore, officer_of, clock) -> None:
    officer = officer_of("101")
    soon = onboarded.add_grant(officer, login=LOGIN, area="ukraine", valid_areas=AREAS, purpose="x", valid_to=clock.now + dt.timedelta(days=10))
    onboarded.add_grant(officer, login=LOGIN, area="ukraine", valid_areas=AREAS, purpose="x", valid_to=clock.now + dt.timedelta(days=60))
    onboarded.add_grant(officer, login=LOGIN, area="ukraine", valid_areas=AREAS, purpose="open-ended")
    revoked = onboarded.add_grant(officer, login=LOGIN, area="ukraine", valid_areas=AREAS, purpose="x", valid_to=clock.now + dt.timedelta(days=5))
    onboarded.revoke_grant(officer, revoked.id)
    expiring = onboarded.list_grants(officer, expiring_within=dt.timedelta(days=30))
    assert [g.id for g in expiring] == [soon.id]
    assert onboarded.list_grants(officer_of("147"), expiring_within=dt.timedelta(days=30)) == []
