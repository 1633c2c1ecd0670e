from __future__ import annotations

import pytest

from gateway.errors import UserError
from gateway.principal import Role
from gateway.store import Actor, ConflictError, ForbiddenError, MetadataStore, RecordNotFoundError, ValidationError

LOGIN = "komb-fli-prod\\kl_pri"


@pytest.fixture
def onboarded(store: MetadataStore, operator: Actor) -> MetadataStore:
    store.onboard_kommune(operator, "101")
    store.onboard_kommune(operator, "147")
    return store


def test_operator_adds_user_with_login_stored_lowercase(onboarded: MetadataStore, operator: Actor) -> None:
    user = onboarded.add_user(operator, kommune_kode="101", login="Komb-Fli-Prod\\KL_PRI", display_name="Kim Larsen")
    assert user.login == LOGIN
    assert user.roles == frozenset({Role.USER})
    assert user.status == "active"
    assert user.created_by == operator.login
    assert onboarded.get_user(operator, LOGIN) == user


def test_every_user_change_bumps_the_revision(onboarded: MetadataStore, operator: Actor) -> None:
    seen = [onboarded.revision()]
    onboarded.add_user(operator, kommune_kode="101", login=LOGIN)
    seen.append(onboarded.revision())
    onboarded.suspend_user(operator, LOGIN)
    seen.append(onboarded.revision())
    onboarded.activate_user(operator, LOGIN)
    seen.append(onboarded.revision())
    onboarded.set_roles(operator, LOGIN, frozenset({Role.USER, Role.AUDITOR}))
    seen.append(onboarded.revision())
    assert seen == sorted(set(seen))


def test_revision_is_seen_by_another_store_on_the_same_database(onboarded: MetadataStore, operator, metadata_url) -> None:
    with MetadataStore(metadata_url, seal=onboarded.seal) as other:
        before = other.revision()
        onboarded.add_user(operator, kommune_kode="101", login=LOGIN)
        assert other.revision() > before


@pytest.mark.parametrize(
    ("kommune", "login", "message"),
    [
        ("999", LOGIN, "unknown kommune '999'"),
        ("101", "kl_pri", "not of the form domain\\user"),
        ("101", "komb fli\\kl pri", "not of the form domain\\user"),
        ("101", "komb-fli-prod\\k147_jens", "in kommune 147's format"),
        ("151", LOGIN, "not onboarded"),
    ],
)
def test_invalid_user_is_refused_with_clear_text(
    onboarded: MetadataStore, operator: Actor, kommune: str, login: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("\\", "\\\\").replace("(", "\\(")):
        onboarded.add_user(operator, kommune_kode=kommune, login=login)
    assert onboarded.list_users(operator) == []


def test_login_of_own_kommune_format_is_accepted(onboarded: MetadataStore, operator: Actor) -> None:
    user = onboarded.add_user(operator, kommune_kode="147", login="komb-fli-prod\\k147_jens")
    assert user.kommune_kode == "147"


def test_duplicate_login_is_refused_whatever_the_case(onboarded: MetadataStore, operator: Actor) -> None:
    onboarded.add_user(operator, kommune_kode="101", login=LOGIN)
    revision = onboarded.revision()
    with pytest.raises(ConflictError, match="already taken"):
        onboarded.add_user(operator, kommune_kode="147", login=LOGIN.upper())
    assert onboarded.revision() == revision  # the failed write left nothing behind


def test_security_officer_manages_own_kommune_only(onboarded: MetadataStore, operator: Actor, officer_of) -> None:
    onboarded.add_user(operator, kommune_kode="147", login="frb\\jens")
    officer = officer_of("101")
    own = onboarded.add_user(officer, kommune_kode="101", login=LOGIN)
    assert own.created_by == officer.login
    with pytest.raises(ForbiddenError, match="only users of kommune 101"):
        onboarded.add_user(officer, kommune_kode="147", login="frb\\other")
    with pytest.raises(RecordNotFoundError, match="no user"):
        onboarded.suspend_user(officer, "frb\\jens")
    assert onboarded.get_user(operator, "frb\\jens").status == "active"
    assert [user.login for user in onboarded.list_users(officer)] == [LOGIN]
    assert [user.login for user in onboarded.list_users(operator)] == [LOGIN, "frb\\jens"]


def test_only_operators_give_the_operator_role(onboarded: MetadataStore, operator: Actor, officer_of) -> None:
    officer = officer_of("101")
    with pytest.raises(ForbiddenError, match="operator role"):
        onboarded.add_user(officer, kommune_kode="101", login=LOGIN, roles=frozenset({Role.OPERATOR}))
    user = onboarded.add_user(officer, kommune_kode="101", login=LOGIN, roles=frozenset({Role.USER, Role.AUDITOR}))
    assert user.roles == frozenset({Role.USER, Role.AUDITOR})


def test_plain_user_cannot_manage_anyone(onboarded: MetadataStore) -> None:
    plain = Actor(login="x\\y", roles=frozenset({Role.USER}), kommune_kode="101")
    with pytest.raises(ForbiddenError):
        onboarded.add_user(plain, kommune_kode="101", login=LOGIN)


def test_suspending_twice_says_so(onboarded: MetadataStore, operator: Actor) -> None:
    onboarded.add_user(operator, kommune_kode="101", login=LOGIN)
    onboarded.suspend_user(operator, LOGIN)
    with pytest.raises(ConflictError, match="already suspended"):
        onboarded.suspend_user(operator, LOGIN)


def test_onboarding_is_for_operators_and_once(store: MetadataStore, operator: Actor, officer_of) -> None:
    with pytest.raises(ForbiddenError):
        store.onboard_kommune(officer_of("101"), "101")
    store.onboard_kommune(operator, "101")
    with pytest.raises(ConflictError, match="already onboarded"):
        store.onboard_kommune(operator, "101")
    with pytest.raises(UserError, match="unknown kommune"):
        store.onboard_kommune(operator, "1")
