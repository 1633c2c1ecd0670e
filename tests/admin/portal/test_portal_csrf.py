"""CSRF: every state-changing route refuses a request without the session's token, and nothing
changes: no store row; the refusal itself is one ``denied`` audit event (a forged request is worth
an auditor's eye)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from admin.portal.app import Portal
from admin.portal.views import routes
from gateway.principal import Role
from tests.admin.portal.portal_world import make_person
from tests.gateway.api.api_world import OPERATOR

FORM = {"status": "suspended", "roles": "user", "reason": "key-compromise", "area": "ukraine", "level": "aggregated",
        "purpose": "CSRF-probe", "days": "30", "login": "komb-fli-prod\\csrf_probe", "kommune": "101"}


def _post_routes(world) -> list[str]:
    portal = Portal(store=world.store, catalog=world.gateway.catalog, settings=world.settings)
    return sorted({route.path for route in routes(portal) if isinstance(route, Route) and "POST" in route.methods})


def _snapshot(world) -> tuple:
    users = world.store.list_users(OPERATOR)
    certificates = [c for u in users for c in world.store.list_certificates(OPERATOR, u.login)]
    return users, world.store.list_grants(OPERATOR), certificates, world.store.list_kommuner()


def _events_after(world, seq: int) -> list:
    return [r.event for r in world.store.audit_log().query() if r.seq > seq]


def _last_seq(world) -> int:
    return max(r.seq for r in world.store.audit_log().query())


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
def test_no_state_change_without_the_sessions_csrf_token(world, browser_for, token) -> None:
    # an operator may do everything, so a forgotten check would show on any route
    officer = make_person(world, "101", Role.OPERATOR, Role.SECURITY_OFFICER, Role.AUDITOR, name="csrf_ops")
    person = make_person(world, "101", Role.USER, name="csrf")
    world.store.add_grant(OPERATOR, login=person.login, area="voksenhandicap", valid_areas={"voksenhandicap"}, purpose="x", level="individual")
    grant = world.store.list_grants(OPERATOR, login=person.login)[-1]
    serial = f"{person.cert.serial:X}"
    browser = browser_for(officer)
    values = {"user_id": str(person.view.id), "grant_id": str(grant.id), "serial": serial, "kode": "173"}
    before, seq = _snapshot(world), _last_seq(world)
    paths = _post_routes(world)
    assert "/logout" in paths and "/brugere" in paths and len(paths) >= 9
    for path in paths:
        if path == "/login/certifikat":
            continue  # before login; its own token is tested in test_portal_login
        url = "/admin" + re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", lambda m: values[m.group(1)], path)
        data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
        response = browser.client.post(url, data=data)
        assert response.status_code == 403, (path, response.status_code)
        assert "Formularen var forældet eller ugyldig" in response.text
    assert _snapshot(world) == before
    refusals = _events_after(world, seq)
    assert len(refusals) == len(paths) - 1  # one per refused POST (the login form excepted)
    assert {(e.login, e.outcome) for e in refusals} == {(officer.login, "denied")}
    assert all(e.reason.startswith("CSRF") and e.operation.startswith("admin.") for e in refusals)
    assert browser.get("/admin/").status_code == 200  # the session survived (logout was refused too)


def test_another_sessions_token_does_not_count(world, officer, second_officer, browser_for) -> None:
    person = make_person(world, "101", Role.USER, name="csrf2")
    mine, theirs = browser_for(officer), browser_for(second_officer)
    before, seq = _snapshot(world), _last_seq(world)
    response = mine.submit(f"/admin/brugere/{person.view.id}/status", {"status": "suspended"}, csrf=theirs.csrf())
    assert response.status_code == 403
    assert _snapshot(world) == before
    assert [(e.operation, e.outcome, e.login) for e in _events_after(world, seq)] == [
        ("admin.user.status", "denied", officer.login)]
