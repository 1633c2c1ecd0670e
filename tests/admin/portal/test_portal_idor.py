"""IDOR, as a property: for every portal route that names an object, an officer or auditor of
another kommune gets exactly the answer they get for an object that does not exist, and nothing
changes but the trail: each refused change (a POST, or taking a one-time download) leaves exactly
one ``denied`` event in the attacker's own kommune, the same for their object as for a missing one."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from admin.portal.app import Portal
from admin.portal.views import routes
from gateway.principal import Role
from tests.admin.portal.portal_world import make_person
from tests.gateway.api.api_world import OPERATOR

# plausible fields for every form, so a route that forgot a check would really change something
FORM = {"status": "suspended", "roles": "user", "reason": "key-compromise", "area": "ukraine", "level": "aggregated",
        "purpose": "IDOR-probe", "days": "30"}


def _object_routes(world) -> list[tuple[str, str, str]]:
    portal = Portal(store=world.store, catalog=world.gateway.catalog, settings=world.settings)
    found = []
    for route in routes(portal):
        if isinstance(route, Route) and route.param_convertors:
            (param,) = route.param_convertors  # each object route names exactly one object
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path, param))
    return found


@pytest.fixture(scope="module")
def victims(world, officer, browser_for_module):
    """Objects of kommune 101 of every kind the routes name."""
    person = make_person(world, "101", Role.USER, name="victim")
    world.store.add_grant(OPERATOR, login=person.login, area="ukraine", valid_areas={"ukraine"}, purpose="x")
    world.store.add_grant(OPERATOR, login=person.login, area="voksenhandicap", valid_areas={"voksenhandicap"}, purpose="x", level="individual")
    grants = [g.id for g in world.store.list_grants(OPERATOR, login=person.login)]
    owner = browser_for_module(officer)
    issued = owner.submit(f"/admin/brugere/{person.view.id}/certifikater", {"days": "30"})
    token = re.search(r'href="/admin/hent/([^"]+)"', issued.text).group(1)
    serials = [f"{c.serial:X}" for c in world.store.list_certificates(OPERATOR, person.login)]
    events = [r.seq for r in world.store.audit_log().query(kommune_kode="101")][-5:]
    return {
        "kode": ["101"],
        "seq": [str(seq) for seq in events],
        "user_id": [str(person.view.id)],
        "grant_id": [str(g) for g in grants],
        "serial": serials,
        "token": [token],
    }


def _missing(kind: str) -> str:
    return {"kode": "999", "seq": "98765432", "user_id": "987654", "grant_id": "987654", "serial": secrets.token_hex(12).upper(), "token": secrets.token_urlsafe(24)}[kind]


def _snapshot(world) -> tuple:
    users = world.store.list_users(OPERATOR)
    grants = world.store.list_grants(OPERATOR)
    certificates = [c for u in users for c in world.store.list_certificates(OPERATOR, u.login)]
    return users, grants, certificates


def _last_seq(world) -> int:
    return max((r.seq for r in world.store.audit_log().query()), default=0)


def _events_after(world, seq: int) -> list:
    return [r.event for r in world.store.audit_log().query() if r.seq > seq]


def _changes_state(method: str, path: str) -> bool:
    return method == "POST" or path.startswith("/hent/")


@pytest.fixture(scope="module")
def attackers(world, browser_for_module):
    return [
        browser_for_module(make_person(world, "147", Role.SECURITY_OFFICER, name="so")),
        browser_for_module(make_person(world, "147", Role.AUDITOR, name="aud")),
        browser_for_module(make_person(world, "147", Role.SECURITY_OFFICER, Role.AUDITOR, name="both")),
        browser_for_module(make_person(world, "147", Role.USER, Role.AUDITOR, name="aud2")),
    ]


def _url(path: str, value: str) -> str:
    return "/admin" + re.sub(r"\{[^}]+\}", value, path)


def _ask(browser, method: str, path: str) -> tuple[int, str]:
    if method == "GET":
        response = browser.get(path)
    else:
        response = browser.submit(path, FORM)
    return response.status_code, response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_another_kommunes_objects_look_exactly_like_missing_ones(world, victims, attackers, data) -> None:
    method, path, kind = data.draw(st.sampled_from(_object_routes(world)), label="route")
    browser = data.draw(st.sampled_from(attackers), label="attacker")
    victim = data.draw(st.sampled_from(victims[kind]), label="object")
    before, seq = _snapshot(world), _last_seq(world)
    theirs = _ask(browser, method, _url(path, victim))
    after_theirs = _last_seq(world)
    other = _missing(kind)
    missing = _ask(browser, method, _url(path, other))
    assert theirs == missing
    assert theirs[0] in (403, 404)
    assert _snapshot(world) == before
    recorded = _events_after(world, seq)
    if not _changes_state(method, path):
        assert recorded == []
        return
    assert len(recorded) == 2 and recorded[0].operation.startswith("admin.")
    # one event per attempt, in the attacker's own kommune, and the two alike but for the id asked for
    assert [_last_seq(world) - after_theirs, after_theirs - seq] == [1, 1]
    attacker = browser.person
    for event in recorded:
        assert (event.login, event.kommune_kode, event.outcome) == (attacker.login, "147", "denied")
    mine, missing_one = recorded
    assert _alike(mine, victim) == _alike(missing_one, other)
    assert victim in mine.query


def _alike(event, asked: str) -> tuple[str, str, str]:
    """The event with the id asked for (as given, or as a number in the error text) blanked out."""
    def blank(text: str) -> str:
        return re.sub(r"\d+", "#", text.replace(asked, "<id>"))

    return event.operation, blank(event.reason), blank(event.query)


def test_the_property_covers_every_kind_of_object_route(world) -> None:
    kinds = {kind for _method, _path, kind in _object_routes(world)}
    assert kinds == {"user_id", "grant_id", "serial", "token", "seq", "kode"}
    assert len(_object_routes(world)) >= 10
