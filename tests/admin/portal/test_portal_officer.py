"""The security officer's workflow through the portal's forms, against the real gateway:
create a user, issue and download the certificate, grant a data area, use it at /graphql,
revoke it and be refused at the next request; four-eyes on person data; explain access."""

from __future__ import annotations

import re
import ssl

import httpx
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from gateway.principal import Role
from tests.admin.portal.portal_world import detail_id, make_person
from tests.gateway.api.api_world import OPERATOR, post

UKRAINE = '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]}) { rowset { rows } } }'


def _client_from_p12(world, url: str, content: bytes, password: str, tmp_path) -> httpx.Client:
    key, cert, _chain = pkcs12.load_key_and_certificates(content, password.encode())
    pem = tmp_path / "from-portal.pem"
    pem.write_bytes(cert.public_bytes(Encoding.PEM) + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    context = ssl.create_default_context(cafile=str(world.ca_file))
    context.load_cert_chain(str(pem))
    return httpx.Client(base_url=url, verify=context, timeout=30.0)


def test_create_issue_grant_use_and_revoke(world, portal_url, officer, browser_for, tmp_path) -> None:
    browser = browser_for(officer)
    created = browser.submit("/admin/brugere", {"login": "komb-fli-prod\\portal_new", "name": "Ny Bruger", "kommune": "101", "roles": "user"})
    assert created.status_code == 303, created.text
    user_id = detail_id(created)
    detail = browser.get(f"/admin/brugere/{user_id}")
    assert "komb-fli-prod\\portal_new" in detail.text and "Aktiv" in detail.text

    issued = browser.submit(f"/admin/brugere/{user_id}/certifikater", {"days": "30"})
    assert issued.status_code == 200, issued.text
    password = re.search(r'<code id="password">([^<]+)</code>', issued.text).group(1)
    serial = re.search(r'<dd id="serial">([0-9A-F]+)</dd>', issued.text).group(1)
    link = re.search(r'href="(/admin/hent/[^"]+)"', issued.text).group(1)
    download = browser.get(link)
    assert download.status_code == 200 and download.headers["content-type"] == "application/x-pkcs12"
    assert "attachment" in download.headers["content-disposition"]
    assert browser.get(link).status_code == 404  # offered once

    granted = browser.submit(f"/admin/brugere/{user_id}/tildelinger", {"area": "ukraine", "level": "aggregated", "purpose": "Ukraine-rapport"})
    assert granted.status_code == 303, granted.text

    with _client_from_p12(world, portal_url, download.content, password, tmp_path) as analyst:
        served = post(analyst, UKRAINE)
        assert served.status_code == 200 and "errors" not in served.json(), served.text
        revoked = browser.submit(f"/admin/certifikater/{serial}/tilbagekald", {"reason": "key-compromise"})
        assert revoked.status_code == 303, revoked.text
        refused = post(analyst, UKRAINE)  # the same kept-alive connection, the very next request
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    operations = [r.event.operation for r in world.store.audit_log().query(login=officer.login)]
    for operation in ("admin.user.add", "admin.certificate.issue", "admin.grant.add", "admin.certificate.revoke"):
        assert operation in operations
    revoke_event = next(r.event for r in world.store.audit_log().query(login=officer.login) if r.event.operation == "admin.certificate.revoke")
    assert "(key-compromise)" in revoke_event.query
    assert world.store.get_certificate(OPERATOR, int(serial, 16)).revocation_reason == "key-compromise"


def test_individual_grant_waits_for_the_second_officer(world, officer, second_officer, browser_for) -> None:
    person = make_person(world, "101", Role.USER, name="vh")
    first = browser_for(officer)
    response = first.submit(f"/admin/brugere/{person.view.id}/tildelinger", {"area": "voksenhandicap", "level": "individual", "purpose": "Sagsbehandling"})
    assert response.status_code == 303
    grant = world.store.list_grants(OPERATOR, login=person.login)[-1]
    assert grant.awaiting_approval
    page = first.get(f"/admin/brugere/{person.view.id}")
    assert f"/admin/tildelinger/{grant.id}/godkend" not in page.text  # not offered to whoever granted it
    own = first.submit(f"/admin/tildelinger/{grant.id}/godkend")
    assert own.status_code == 400 and "en anden sikkerhedsansvarlig" in own.text
    assert world.store.get_grant(OPERATOR, grant.id).awaiting_approval

    second = browser_for(second_officer)
    overview = second.get("/admin/tildelinger")
    assert person.login in overview.text
    assert f"/admin/tildelinger/{grant.id}/godkend" in second.get(f"/admin/brugere/{person.view.id}").text
    approved = second.submit(f"/admin/tildelinger/{grant.id}/godkend")
    assert approved.status_code == 303
    after = world.store.get_grant(OPERATOR, grant.id)
    assert after.approved_by == second_officer.login and not after.awaiting_approval


def test_explain_access_names_the_rule(world, officer, browser_for) -> None:
    person = make_person(world, "101", Role.USER, name="ex")
    browser = browser_for(officer)
    denied = browser.get(f"/admin/brugere/{person.view.id}/adgang", params={"database": "FLIS Ukraine-101"})
    assert "Afvist" in denied.text and "no active grant for area &#39;ukraine&#39;" in denied.text
    world.store.add_grant(OPERATOR, login=person.login, area="ukraine", valid_areas={"ukraine"}, purpose="x")
    allowed = browser.get(f"/admin/brugere/{person.view.id}/adgang", params={"database": "FLIS Ukraine-101"})
    assert "Tilladt" in allowed.text and "grant #" in allowed.text
    # another kommune's database and a missing one: the same answer, naming neither
    other = browser.get(f"/admin/brugere/{person.view.id}/adgang", params={"database": "FLIS Ukraine-147"})
    missing = browser.get(f"/admin/brugere/{person.view.id}/adgang", params={"database": "FLIS Findes Ikke-101"})
    assert other.status_code == missing.status_code == 200
    assert other.text.replace("FLIS Ukraine-147", "X") == missing.text.replace("FLIS Findes Ikke-101", "X")
    assert "Databasen findes ikke" in other.text
    assert "FLIS Ukraine-147" not in [m for m in re.findall(r'<option value="([^"]+)"', other.text)]


def test_bad_input_is_a_clear_page_not_a_crash(officer, browser_for) -> None:
    browser = browser_for(officer)
    bad_login = browser.submit("/admin/brugere", {"login": "no-backslash", "kommune": "101"})
    assert bad_login.status_code == 400 and "domæne\\bruger" in bad_login.text
    other_kommune = browser.submit("/admin/brugere", {"login": "komb-fli-prod\\x147", "kommune": "147"})
    assert other_kommune.status_code == 403
    bad_role = browser.submit("/admin/brugere", {"login": "komb-fli-prod\\y", "kommune": "101", "roles": "king"})
    assert bad_role.status_code == 400
    operator_role = browser.submit("/admin/brugere", {"login": "komb-fli-prod\\z", "kommune": "101", "roles": "operator"})
    assert operator_role.status_code == 403
