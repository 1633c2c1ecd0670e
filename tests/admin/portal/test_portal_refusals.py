"""Refused portal changes leave a trail: an officer who asks for what they may not do (another
kommune's user, certificate or grant; the operator role; approving their own grant) is refused in
Danish, nothing changes, and exactly one ``denied`` event records the attempt in their own kommune.
The one-time certificate download is an event too."""

from __future__ import annotations

import re

import pytest

from gateway.principal import Role
from tests.admin.portal.portal_world import make_person
from tests.gateway.api.api_world import OPERATOR


def _last_seq(world) -> int:
    return max(r.seq for r in world.store.audit_log().query())


def _events_after(world, seq: int) -> list:
    return [r.event for r in world.store.audit_log().query() if r.seq > seq]


def _state(world) -> tuple:
    users = world.store.list_users(OPERATOR)
    certificates = [c for u in users for c in world.store.list_certificates(OPERATOR, u.login)]
    return users, world.store.list_grants(OPERATOR), certificates


@pytest.fixture
def theirs(world):
    """A user of kommune 147 with a certificate and an aggregated grant."""
    person = make_person(world, "147", Role.USER, name="other")
    world.store.add_grant(OPERATOR, login=person.login, area="ukraine", valid_areas={"ukraine"}, purpose="x")
    grant = world.store.list_grants(OPERATOR, login=person.login)[-1]
    return person, grant


def _attempts(officer_browser, theirs, mine, own_grant) -> list[tuple[str, dict, int, str, str]]:
    person, grant = theirs
    serial = f"{person.cert.serial:X}"
    return [
        (f"/admin/brugere/{person.view.id}/status", {"status": "suspended"}, 404, "admin.user.status", "NOT_FOUND"),
        (f"/admin/certifikater/{serial}/tilbagekald", {"reason": "key-compromise"}, 404, "admin.certificate.revoke", "NOT_FOUND"),
        (f"/admin/tildelinger/{grant.id}/tilbagekald", {}, 404, "admin.grant.revoke", "NOT_FOUND"),
        (f"/admin/tildelinger/{grant.id}/godkend", {}, 404, "admin.grant.approve", "NOT_FOUND"),
        (f"/admin/brugere/{mine.view.id}/roller", {"roles": "operator"}, 403, "admin.user.roles", "OPERATOR_ROLE"),
        (f"/admin/tildelinger/{own_grant}/godkend", {}, 400, "admin.grant.approve", "FOUR_EYES"),
    ]


def test_each_refused_change_is_one_denied_event_and_nothing_else(world, officer, browser_for, theirs) -> None:
    mine = make_person(world, "101", Role.USER, name="mine")
    browser = browser_for(officer)
    created = browser.submit(f"/admin/brugere/{mine.view.id}/tildelinger",
                             {"area": "voksenhandicap", "level": "individual", "purpose": "sagsbehandling"})
    assert created.status_code == 303
    own_grant = world.store.list_grants(OPERATOR, login=mine.login)[-1].id
    not_found_page = browser.get("/admin/brugere/98765432").text
    for path, form, status, operation, code in _attempts(browser, theirs, mine, own_grant):
        before, seq = _state(world), _last_seq(world)
        response = browser.submit(path, form)
        assert response.status_code == status, (path, response.text)
        if status == 404:  # indistinguishable from an object that does not exist
            assert response.text == not_found_page
        assert _state(world) == before, path
        (event,) = _events_after(world, seq)
        assert (event.operation, event.outcome, event.login, event.kommune_kode) == (operation, "denied", officer.login, "101")
        assert event.reason.startswith(f"{code}:") and path in event.query


def test_refusals_an_officer_can_cause_are_in_danish(world, officer, browser_for) -> None:
    mine = make_person(world, "101", Role.USER, name="dansk")
    browser = browser_for(officer)
    cases = [
        (f"/admin/brugere/{mine.view.id}/roller", {"roles": "operator"}, "Kun drift kan tildele driftsrollen."),
        (f"/admin/brugere/{mine.view.id}/tildelinger", {"area": "ukraine", "purpose": " "}, "Angiv formålet"),
        (f"/admin/brugere/{mine.view.id}/tildelinger", {"area": "ukraine", "purpose": "x", "valid_to": "2001-01-01"},
         "Slutdatoen"),
        (f"/admin/brugere/{mine.view.id}/tildelinger", {"area": "ukraine", "purpose": "x", "valid_to": "31-12-2030"},
         "ÅÅÅÅ-MM-DD"),
        (f"/admin/brugere/{mine.view.id}/status", {"status": "active"}, "Brugeren har allerede den status."),
        ("/admin/brugere", {"login": "not a login", "kommune": "101"}, "Brugernavnet skal have formen"),
        ("/admin/brugere", {"login": mine.login, "kommune": "101"}, "Brugernavnet er allerede i brug."),
        (f"/admin/brugere/{mine.view.id}/certifikater", {"days": "9999"}, "Gyldigheden skal være 1 til 365 dage."),
    ]
    for path, form, danish in cases:
        response = browser.submit(path, form)
        assert response.status_code in (400, 403, 409), (path, response.status_code)
        assert danish in response.text, (path, response.text)
        body = re.sub(r"<[^>]+>", " ", response.text)
        for english in ("must", "already", "only operators", "needs a", "is not of the form"):
            assert english not in body, (path, english)


def test_the_one_time_download_is_an_event(world, officer, browser_for) -> None:
    person = make_person(world, "101", Role.USER, name="hent")
    browser = browser_for(officer)
    issued = browser.submit(f"/admin/brugere/{person.view.id}/certifikater", {"days": "30"})
    token = re.search(r'href="/admin/hent/([^"]+)"', issued.text).group(1)
    seq = _last_seq(world)
    assert browser.get(f"/admin/hent/{token}").status_code == 200
    assert browser.get(f"/admin/hent/{token}").status_code == 404  # once only
    served, refused = _events_after(world, seq)
    assert (served.operation, served.outcome, served.login) == ("admin.certificate.download", "served", officer.login)
    assert served.query.startswith("downloaded ") and served.query.endswith(".p12")
    assert (refused.operation, refused.outcome, refused.reason) == ("admin.certificate.download", "denied", "NOT_FOUND: no such download")
