"""Certificate login, the session cookie, security headers, logout and what ends a session."""

from __future__ import annotations

import re

from admin.portal.security import CONTENT_SECURITY_POLICY
from gateway.principal import Role
from tests.admin.portal.portal_world import PortalBrowser, make_person
from tests.gateway.api.api_world import OPERATOR


def test_officer_logs_in_with_the_certificate_and_gets_a_host_only_secure_session(officer, browser_for) -> None:
    browser = browser_for(officer, login=False)
    page = browser.get("/admin/login")
    assert officer.login in page.text
    login_cookie = page.headers["set-cookie"]
    assert login_cookie.startswith("__Host-dataadgang-login=")
    response = browser.client.post("/admin/login/certifikat", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-dataadgang-session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes and "domain" not in attributes
    assert "path=/" in cookie.lower() and "samesite=lax" in cookie.lower()
    home = browser.get("/admin/")
    assert home.status_code == 200 and officer.login in home.text
    events = [r.event for r in browser.world.store.audit_log().query(login=officer.login)]
    assert events[-1].operation == "admin.session.login" and events[-1].query == "portal login by certificate"


def test_every_page_has_a_strict_csp_and_no_inline_script(officer, browser_for) -> None:
    browser = browser_for(officer)
    for path in ("/admin/", "/admin/brugere", "/admin/tildelinger", f"/admin/brugere/{officer.view.id}", "/admin/login"):
        response = browser.get(path, follow_redirects=True)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
        assert "<script" not in response.text and "style=" not in response.text
        assert not re.search(r"<[^>]+\son[a-z]+=", response.text), "inline event handler"
    css = browser.get("/admin/static/portal.css")
    assert css.status_code == 200 and "font-family" in css.text


def test_logout_ends_the_session_on_the_server(officer, browser_for) -> None:
    browser = browser_for(officer)
    stolen = browser.client.cookies.get("__Host-dataadgang-session")
    logout = browser.submit("/admin/logout")
    assert logout.status_code == 303 and logout.headers["location"].endswith("/admin/login")
    replay = PortalBrowser(browser.world, str(browser.client.base_url), officer)
    replay.client.cookies.set("__Host-dataadgang-session", stolen)
    assert replay.get("/admin/").status_code == 303  # back to login: the server forgot the session
    assert browser.world.store.audit_log().query(login=officer.login)[-1].event.operation == "admin.session.logout"
    replay.close()


def test_a_session_cookie_is_worthless_with_another_certificate(world, officer, browser_for) -> None:
    browser = browser_for(officer)
    other = make_person(world, "101", Role.SECURITY_OFFICER, name="thief")
    thief = browser_for(other, login=False)
    thief.client.cookies.set("__Host-dataadgang-session", browser.client.cookies.get("__Host-dataadgang-session"))
    assert thief.get("/admin/").status_code == 303


def test_a_plain_user_has_no_portal(world, browser_for) -> None:
    analyst = make_person(world, "101", Role.USER, name="analyst")
    browser = browser_for(analyst, login=False)
    page = browser.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = browser.client.post("/admin/login/certifikat", data={"csrf_token": token})
    assert response.status_code == 403 and "ingen rolle" in response.text
    assert "__Host-dataadgang-session" not in browser.client.cookies
    refused = world.store.audit_log().query(login=analyst.login)[-1].event
    assert (refused.operation, refused.outcome, refused.kommune_kode) == ("admin.session.login", "denied", "101")
    assert refused.reason.startswith("NO_PORTAL_ROLE") and refused.query.startswith("portal login by certificate refused")


def test_suspending_an_officer_ends_their_session_at_the_next_request(world, browser_for) -> None:
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="soon_gone")
    browser = browser_for(officer)
    assert browser.get("/admin/brugere").status_code == 200
    world.store.suspend_user(OPERATOR, officer.login)
    # suspended: the identity step already refuses the certificate, before the portal
    assert browser.get("/admin/brugere").status_code in (303, 401)


def test_an_auditor_does_not_reach_the_officer_pages(world, browser_for) -> None:
    auditor = make_person(world, "101", Role.AUDITOR, name="aud")
    browser = browser_for(auditor)
    assert browser.get("/admin/brugere").status_code == 403


def test_login_without_the_login_token_is_refused(officer, browser_for) -> None:
    browser = browser_for(officer, login=False)
    browser.get("/admin/login")
    response = browser.client.post("/admin/login/certifikat", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "__Host-dataadgang-session" not in browser.client.cookies
    refused = browser.world.store.audit_log().query(login=officer.login)[-1].event
    assert (refused.operation, refused.outcome) == ("admin.session.login", "denied") and refused.reason.startswith("CSRF")


def test_a_refused_login_leaves_a_verifiable_trail(world, browser_for) -> None:
    """The refusals are links in the same sealed chain as everything else."""
    analyst = make_person(world, "101", Role.USER, name="chain_probe")
    browser = browser_for(analyst, login=False)
    page = browser.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert browser.client.post("/admin/login/certifikat", data={"csrf_token": token}).status_code == 403
    assert world.store.audit_log().verify().ok
