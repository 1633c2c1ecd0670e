from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.access import Action, Decision, Disclosure, GrantView, UnknownActionError, decide
from gateway.model.catalog import DatabaseRef
from gateway.principal import Principal, Role

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

UKRAINE_101 = DatabaseRef(name="FLIS Ukraine-101", area="ukraine", grant_name="FLIS DAP Ukraine", kommune_kode="101")
UKRAINE_147 = DatabaseRef(name="FLIS Ukraine-147", area="ukraine", grant_name="FLIS DAP Ukraine", kommune_kode="147")
VH_101 = DatabaseRef(name="FLIS Voksne Handicappede-101", area="voksenhandicap", grant_name="FLIS DAP VH", kommune_kode="101")
VH_147 = DatabaseRef(name="FLIS Voksne Handicappede-147", area="voksenhandicap", grant_name="FLIS DAP VH", kommune_kode="147")
VH_BENCH = DatabaseRef(name="FLIS Voksne Handicappede Benchmark", area="voksenhandicap", grant_name="FLIS DAP VH", kommune_kode=None)


def principal(user_id: int = 1, kommune: str = "101", not_after: dt.datetime = NOW + 300 * DAY) -> Principal:
    return Principal(
        user_id=user_id,
        login="komb-fli-prod\\kl_pri",
        kommune_kode=kommune,
        roles=frozenset({Role.USER}),
        cert_fingerprint="ab" * 32,
        cert_serial=42,
        cert_not_after=not_after,
    )


def grant(
    area: str = "ukraine",
    level: str = "aggregated",
    *,
    grant_id: int = 1,
    user_id: int = 1,
    valid_from: dt.datetime = NOW - DAY,
    valid_to: dt.datetime | None = None,
    revoked_at: dt.datetime | None = None,
) -> GrantView:
    return GrantView(grant_id, user_id, area, level, valid_from, valid_to, revoked_at)


CASES = [
    # (name, principal, database, action, grants, allowed, reason fragment)
    ("own kommune with grant", principal(), UKRAINE_101, Action.EXECUTE, [grant()], True, "grant #1"),
    ("discover with grant", principal(), UKRAINE_101, Action.DISCOVER, [grant()], True, "grant #1"),
    ("no principal", None, UKRAINE_101, Action.EXECUTE, [grant()], False, "no authenticated principal"),
    ("missing database", principal(), None, Action.EXECUTE, [grant()], False, "no such database"),
    ("other kommune's database", principal(), UKRAINE_147, Action.EXECUTE, [grant()], False, "belongs to kommune 147"),
    ("no grant", principal(), UKRAINE_101, Action.EXECUTE, [], False, "no active grant"),
    ("grant for another area", principal(), UKRAINE_101, Action.EXECUTE, [grant("borger")], False, "no active grant"),
    ("grant of another user", principal(), UKRAINE_101, Action.EXECUTE, [grant(user_id=2)], False, "no active grant"),
    ("grant not yet valid", principal(), UKRAINE_101, Action.EXECUTE, [grant(valid_from=NOW + DAY)], False, "no active grant"),
    ("grant starts exactly now", principal(), UKRAINE_101, Action.EXECUTE, [grant(valid_from=NOW)], True, "grant #1"),
    ("grant ended exactly now", principal(), UKRAINE_101, Action.EXECUTE, [grant(valid_to=NOW)], False, "no active grant"),
    ("grant revoked", principal(), UKRAINE_101, Action.EXECUTE, [grant(revoked_at=NOW - DAY)], False, "no active grant"),
    ("certificate expired", principal(not_after=NOW), UKRAINE_101, Action.EXECUTE, [grant()], False, "expired"),
    ("benchmark with grant", principal(kommune="147"), VH_BENCH, Action.EXECUTE, [grant("voksenhandicap")], True, "grant #1"),
    ("benchmark without grant", principal(kommune="147"), VH_BENCH, Action.EXECUTE, [grant()], False, "no active grant"),
]


@pytest.mark.parametrize(("name", "who", "database", "action", "grants", "allowed", "reason"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name, who, database, action, grants, allowed: bool, reason: str) -> None:
    decision = decide(who, database, action, grants, now=NOW)
    assert decision.allowed is allowed
    assert reason in decision.reason


DISCLOSURE_CASES = [
    # (name, principal, database, grants, level, disclosure)
    ("aggregated grant at home is protected", principal(), VH_101, [grant("voksenhandicap")], "aggregated", Disclosure.PROTECTED),
    ("individual grant at home is exact", principal(), VH_101, [grant("voksenhandicap", "individual")], "individual", Disclosure.EXACT),
    (
        "individual grant wins among several",
        principal(),
        VH_101,
        [grant("voksenhandicap", grant_id=1), grant("voksenhandicap", "individual", grant_id=2)],
        "individual",
        Disclosure.EXACT,
    ),
    (
        "expired individual does not count",
        principal(),
        VH_101,
        [grant("voksenhandicap", grant_id=1), grant("voksenhandicap", "individual", grant_id=2, valid_to=NOW - 1 * DAY + dt.timedelta(hours=1))],
        "aggregated",
        Disclosure.PROTECTED,
    ),
    ("benchmark is protected even for an individual grant", principal(), VH_BENCH, [grant("voksenhandicap", "individual")], "individual", Disclosure.PROTECTED),
    ("benchmark with an aggregated grant is protected", principal(), VH_BENCH, [grant("voksenhandicap")], "aggregated", Disclosure.PROTECTED),
]


@pytest.mark.parametrize(("name", "who", "database", "grants", "level", "disclosure"), DISCLOSURE_CASES, ids=[c[0] for c in DISCLOSURE_CASES])
def test_decision_carries_level_and_disclosure(name, who, database, grants, level: str, disclosure: Disclosure) -> None:
    for action in Action:
        decision = decide(who, database, action, grants, now=NOW)
        assert decision.allowed
        assert (decision.level, decision.disclosure) == (level, disclosure)
        assert decision.person_level is (disclosure is Disclosure.EXACT)


def test_a_denial_never_grants_person_level() -> None:
    decision = decide(principal(), VH_147, Action.EXECUTE, [grant("voksenhandicap", "individual")], now=NOW)
    assert not decision.allowed and not decision.person_level


def test_unknown_action_raises_instead_of_deciding() -> None:
    with pytest.raises(UnknownActionError):
        decide(principal(), UKRAINE_101, "delete", [grant()], now=NOW)  # type: ignore[arg-type]
    with pytest.raises(UnknownActionError):
        decide(principal(), UKRAINE_101, "execute", [grant()], now=NOW)  # type: ignore[arg-type]


def test_naive_time_is_a_bug_not_a_decision() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(principal(), UKRAINE_101, Action.EXECUTE, [grant()], now=NOW.replace(tzinfo=None))


def test_decision_is_immutable() -> None:
    decision = decide(principal(), UKRAINE_101, Action.EXECUTE, [grant()], now=NOW)
    with pytest.raises(AttributeError):
        decision.allowed = False  # type: ignore[misc]
    assert decision == Decision(True, decision.reason, "aggregated", Disclosure.PROTECTED)


# --- property test: the rules, written out independently, agree with decide() -------------------

KOMMUNER = ("101", "147", "151")
AREAS = ("ukraine", "borger", "voksenhandicap")
offsets = st.integers(min_value=-5, max_value=5).map(lambda days: NOW + days * DAY)

databases = st.one_of(
    st.none(),
    st.builds(
        lambda area, kommune: DatabaseRef(
            name=f"FLIS {area}-{kommune}" if kommune else f"FLIS {area} Benchmark",
            area=area,
            grant_name=f"FLIS DAP {area}",
            kommune_kode=kommune,
        ),
        st.sampled_from(AREAS),
        st.one_of(st.none(), st.sampled_from(KOMMUNER)),
    ),
)
principals = st.one_of(
    st.none(),
    st.builds(principal, user_id=st.integers(1, 2), kommune=st.sampled_from(KOMMUNER), not_after=offsets),
)
grant_lists = st.lists(
    st.builds(
        grant,
        area=st.sampled_from(AREAS),
        level=st.sampled_from(("aggregated", "individual")),
        grant_id=st.integers(1, 50),
        user_id=st.integers(1, 2),
        valid_from=offsets,
        valid_to=st.one_of(st.none(), offsets),
        revoked_at=st.one_of(st.none(), offsets),
    ),
    max_size=5,
)


def rules_allow(who: Principal | None, database: DatabaseRef | None, action: Action, grants: list[GrantView], now: dt.datetime) -> bool:
    if who is None or database is None or who.cert_not_after <= now:
        return False
    if not (database.kommune_kode is None or database.kommune_kode == who.kommune_kode):
        return False
    usable = [
        g
        for g in grants
        if g.user_id == who.user_id
        and g.area == database.area
        and g.revoked_at is None
        and g.valid_from <= now
        and (g.valid_to is None or now < g.valid_to)
    ]
    return bool(usable)


def rules_exact(who: Principal, database: DatabaseRef, grants: list[GrantView], now: dt.datetime) -> bool:
    """DOMAIN.md: exact answers only with an active individual grant in one's own kommune's database."""
    return database.kommune_kode == who.kommune_kode and any(
        g.user_id == who.user_id
        and g.area == database.area
        and g.level == "individual"
        and g.revoked_at is None
        and g.valid_from <= now
        and (g.valid_to is None or now < g.valid_to)
        for g in grants
    )


@settings(max_examples=400, deadline=None)
@given(who=principals, database=databases, action=st.sampled_from(list(Action)), grants=grant_lists, now=offsets)
def test_allowed_exactly_when_every_rule_holds(who, database, action, grants, now) -> None:
    decision = decide(who, database, action, grants, now=now)
    assert decision.allowed is rules_allow(who, database, action, grants, now)
    assert decision.reason
    if decision.allowed:
        assert decision.person_level is rules_exact(who, database, grants, now)
    if who is not None and database is not None and database.kommune_kode not in (None, who.kommune_kode):
        assert decision.allowed is False
    # a missing database is indistinguishable from a forbidden one
    if not decision.allowed:
        assert decide(who, None, action, grants, now=now).allowed is decision.allowed
