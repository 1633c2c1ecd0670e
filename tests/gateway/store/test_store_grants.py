from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gateway.store import Actor, ConflictError, ForbiddenError, MetadataStore, RecordNotFoundError, ValidationError
from gateway.store.tables import GrantRow

LOGIN = "komb-fli-prod\\kl_pri"
AREAS = frozenset({"ukraine", "borger", "voksenhandicap", "kl_databank"})


@pytest.fixture
def user_store(store: MetadataStore, operator: Actor) -> MetadataStore:
    store.onboard_kommune(operator, "101")
    store.onboard_kommune(operator, "147")
    store.add_user(operator, kommune_kode="101", login=LOGIN)
    store.add_user(operator, kommune_kode="147", login="frb\\jens")
    return store


def _grant(store: MetadataStore, actor: Actor, **overrides: object):
    arguments: dict[str, object] = {"login": LOGIN, "area": "ukraine", "valid_areas": AREAS, "purpose": "Ukraine-rapport"}
    arguments.update(overrides)
    return store.add_grant(actor, **arguments)  # type: ignore[arg-type]


def test_grant_is_recorded_with_who_and_why(user_store: MetadataStore, operator: Actor, clock) -> None:
    grant = _grant(user_store, operator, level="aggregated", valid_to=clock.now + dt.timedelta(days=30))
    assert (grant.area, grant.level, grant.purpose, grant.granted_by) == ("ukraine", "aggregated", "Ukraine-rapport", operator.login)
    assert grant.valid_from == clock.now
    assert grant.status(clock.now) == "active"
    principal_grants = user_store.list_grants(operator, login=LOGIN)
    assert principal_grants == [grant]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"area": "nope"}, "unknown data area 'nope'"),
        ({"level": "everything"}, "unknown grant level"),
        ({"purpose": "  "}, "needs a purpose"),
        ({"valid_from": dt.datetime(2025, 6, 1, tzinfo=dt.UTC), "valid_to": dt.datetime(2025, 5, 1, tzinfo=dt.UTC)}, "must be after valid_from"),
        ({"valid_from": dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "valid_to": dt.datetime(2024, 6, 1, tzinfo=dt.UTC)}, "already past"),
    ],
)
def test_invalid_grant_is_refused_and_nothing_is_written(
    user_store: MetadataStore, operator: Actor, overrides: dict[str, object], message: str
) -> None:
    revision = user_store.revision()
    with pytest.raises(ValidationError, match=message):
        _grant(user_store, operator, **overrides)
    assert user_store.list_grants(operator) == []
    assert user_store.revision() == revision


def test_grant_to_suspended_user_is_refused(user_store: MetadataStore, operator: Actor) -> None:
    user_store.suspend_user(operator, LOGIN)
    with pytest.raises(ValidationError, match="is suspended"):
        _grant(user_store, operator)
    with user_store.database.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GrantRow)) == 0


def test_security_officer_grants_only_own_kommune(user_store: MetadataStore, officer_of) -> None:
    officer = officer_of("147")
    with pytest.raises(RecordNotFoundError):
        _grant(user_store, officer)
    grant = _grant(user_store, officer, login="frb\\jens")
    assert grant.kommune_kode == "147"
    other = _grant(user_store, Actor.operator("ops"), login=LOGIN)
    with pytest.raises(RecordNotFoundError):
        user_store.revoke_grant(officer, other.id)
    assert [g.id for g in user_store.list_grants(officer)] == [grant.id]


def test_auditor_sees_but_cannot_grant(user_store: MetadataStore) -> None:
    from gateway.principal import Role

    auditor = Actor(login="komb\\k101_aud", roles=frozenset({Role.AUDITOR}), kommune_kode="101")
    with pytest.raises(ForbiddenError):
        _grant(user_store, auditor)


def test_revoked_grant_leaves_grants_for(user_store: MetadataStore, operator: Actor, clock) -> None:
    first = _grant(user_store, operator)
    second = _grant(user_store, operator, area="borger")
    user = user_store.get_user(operator, LOGIN)
    principal = _principal_stub(user.id)
    assert [g.id for g in user_store.grants_for(principal)] == [first.id, second.id]
    revision = user_store.revision()
    clock.advance(hours=1)
    revoked = user_store.revoke_grant(operator, first.id)
    assert revoked.revoked_at == clock.now and revoked.revoked_by == operator.login
    assert user_store.revision() > revision
    assert [g.id for g in user_store.grants_for(principal)] == [second.id]
    with pytest.raises(ConflictError, match="already revoked"):
        user_store.revoke_grant(operator, first.id)
    with pytest.raises(RecordNotFoundError):
        user_store.revoke_grant(operator, 9999)
    assert [g.id for g in user_store.list_grants(operator, include_revoked=False)] == [second.id]


def test_grant_views_are_immutable(user_store: MetadataStore, operator: Actor) -> None:
    _grant(user_store, operator)
    view = user_store.grants_for(_principal_stub(user_store.get_user(operator, LOGIN).id))[0]
    with pytest.raises(AttributeError):
        view.level = "individual"  # type: ignore[misc]


def _principal_stub(user_id: int):
    from gateway.principal import Principal, Role

    return Principal(
        user_id=user_id,
        login=LOGIN,
        kommune_kode="101",
        roles=frozenset({Role.USER}),
        cert_fingerprint="0" * 64,
        cert_serial=1,
        cert_not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
