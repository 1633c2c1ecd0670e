"""Every portal response carries the security headers, whoever asks: the login page before
anyone is logged in, redirects, error pages, refusals, static files, downloads and exports."""

from __future__ import annotations

import re

from admin.portal.security import CONTENT_SECURITY_POLICY, HEADERS
from gateway.principal import Role
from tests.admin.portal.portal_world import make_person

EXPECTED = {name.decode(): value.decode() for name, value in HEADERS}


def _assert_secured(response) -> None:
    where = (response.request.method, str(response.request.url), response.status_code)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert response.headers["strict-transport-security"].startswith("max-age=") , where
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, where


def test_headers_before_login(world, officer, browser_for) -> None:
    anonymous = browser_for(officer, login=False)
    login = anonymous.get("/admin/login")
    assert login.status_code == 200 and "csrf_token" in login.text
    responses = [
        login,
        anonymous.get("/admin/"),  # redirect to the login page
        anonymous.get("/admin/findes-ikke"),
        anonymous.get("/admin/static/portal.css"),
        anonymous.client.post("/admin/login/certifikat", data={"csrf_token": "forged"}),
        anonymous.client.post("/admin/brugere", data={"login": "x"}),  # no session
    ]
    assert [r.status_code for r in responses] == [200, 303, 404, 200, 403, 403]
    for response in responses:
        _assert_secured(response)


def test_headers_when_logged_in(world, officer, browser_for) -> None:
    browser = browser_for(officer)
    person = make_person(world, "101", Role.USER, name="hdr")
    issued = browser.submit(f"/admin/brugere/{person.view.id}/certifikater", {"days": "30"})
    token = re.search(r'href="/admin/hent/([^"]+)"', issued.text).group(1)
    auditor = browser_for(make_person(world, "101", Role.AUDITOR, name="hdraud"))
    responses = [
        issued,
        browser.get(f"/admin/hent/{token}"),
        browser.get("/admin/brugere/98765432"),
        browser.submit(f"/admin/brugere/{person.view.id}/status", {"status": "nonsense"}),
        browser.get("/admin/revision"),  # an officer without the auditor role
        auditor.get("/admin/revision"),
        auditor.get("/admin/revision/eksport?format=csv"),
        browser.submit("/admin/logout"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 400, 403, 200, 200, 303]
    for response in responses:
        _assert_secured(response)


def test_headers_on_the_identity_steps_refusal_in_front_of_the_portal(world, browser_for) -> None:
    """A revoked certificate is refused before the portal sees the request; still a portal answer."""
    from admin.revocation import revoke_certificate
    from tests.gateway.api.api_world import OPERATOR

    person = make_person(world, "101", Role.SECURITY_OFFICER, name="hdrrev")
    revoke_certificate(world.store, world.settings.ca_dir, OPERATOR, person.cert.serial, "key-compromise")
    browser = browser_for(person, login=False)
    refused = browser.get("/admin/login")
    assert refused.status_code == 401
    _assert_secured(refused)
    api = browser.get("/graphql")  # the gateway's own answers are not the portal's to dress
    assert "content-security-policy" not in api.headers
