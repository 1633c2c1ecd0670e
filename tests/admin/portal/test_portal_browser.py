"""End to end in a real headless Chromium presenting real client certificates: the security
officer's workflow, four-eyes with a second officer, screenshots of the main pages, and axe-core
(WCAG 2.1 AA) on every page visited."""

from __future__ import annotations

import re
import ssl

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from gateway.principal import Role
from tests.admin.portal.chromium import Browser, chromium, require_browser
from tests.admin.portal.oidc_provider import oidc_portal, require_provider
from tests.admin.portal.portal_world import make_person
from tests.gateway.api.api_world import OPERATOR, post

pytestmark = pytest.mark.slow

UKRAINE = '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]}) { rowset { rows } } }'


def _accessible(browser: Browser, page: str) -> None:
    violations = browser.accessibility_violations()
    assert violations == [], f"{page}: {violations}"


def _visit(browser: Browser, name: str) -> None:
    """Every page the test sees: screenshot and accessibility check."""
    browser.screenshot(name)
    _accessible(browser, name)


def _client_from_p12(world, url: str, content: bytes, password: str, tmp_path) -> httpx.Client:
    key, cert, _chain = pkcs12.load_key_and_certificates(content, password.encode())
    pem = tmp_path / "analyst.pem"
    pem.write_bytes(cert.public_bytes(Encoding.PEM) + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    context = ssl.create_default_context(cafile=str(world.ca_file))
    context.load_cert_chain(str(pem))
    return httpx.Client(base_url=url, verify=context, timeout=30.0)


def test_officer_workflow_in_chromium(world, portal_url, tmp_path) -> None:
    require_browser()
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="chrome_so")
    second = make_person(world, "101", Role.SECURITY_OFFICER, name="chrome_so2")
    login = "komb-fli-prod\\chrome_analyst"

    with chromium(tmp_path / "officer", p12=officer.p12_path, password=officer.p12_password, ca_file=world.ca_file) as browser:
        browser.open(f"{portal_url}/admin/login")
        assert officer.login in browser.page
        _visit(browser, "01-login")
        browser.click("form[action$='/login/certifikat'] button")
        assert browser.url.endswith("/admin/")
        _visit(browser, "02-forside")

        browser.open(f"{portal_url}/admin/brugere")
        browser.fill("#login", login)
        browser.fill("#name", "Chrome Analytiker")
        _visit(browser, "03-brugere")
        browser.click("form[action$='/admin/brugere'] button[type=submit]")
        user_id = int(re.search(r"/admin/brugere/(\d+)$", browser.url).group(1))
        assert "Chrome Analytiker" in browser.page

        browser.click("form[action$='/certifikater'] button")
        password = browser.text("#password")
        serial = browser.text("#serial")
        _visit(browser, "04-certifikat-udstedt")
        browser.click("#download")
        p12 = browser.wait_for_download(".p12")

        browser.open(f"{portal_url}/admin/brugere/{user_id}")
        browser.select("#area", "ukraine")
        browser.fill("#purpose", "Ukraine-rapport")
        browser.click(f"form[action$='/brugere/{user_id}/tildelinger'] button")
        assert "Ukraine-rapport" in browser.page
        browser.select("#area", "voksenhandicap")
        browser.select("#level", "individual")
        browser.fill("#purpose", "Sagsbehandling")
        browser.click(f"form[action$='/brugere/{user_id}/tildelinger'] button")
        assert "Venter på godkendelse" in browser.page
        _visit(browser, "05-bruger")

        browser.open(f"{portal_url}/admin/brugere/{user_id}/adgang?database=FLIS+Ukraine-101")
        assert "Tilladt" in browser.page
        _visit(browser, "06-forklar-adgang")

        with _client_from_p12(world, portal_url, p12.read_bytes(), password, tmp_path) as analyst:
            served = post(analyst, UKRAINE)
            assert served.status_code == 200 and "errors" not in served.json(), served.text

            browser.open(f"{portal_url}/admin/brugere/{user_id}")
            browser.select(f"form[action$='/certifikater/{serial}/tilbagekald'] select", "key-compromise")
            browser.click(f"form[action$='/certifikater/{serial}/tilbagekald'] button")
            assert "Tilbagekaldt" in browser.page
            refused = post(analyst, UKRAINE)  # the very next request on the same connection
            assert refused.status_code == 401

    grant = next(g for g in world.store.list_grants(OPERATOR, login=login) if g.level == "individual")
    assert grant.awaiting_approval
    with chromium(tmp_path / "second", p12=second.p12_path, password=second.p12_password, ca_file=world.ca_file) as browser:
        browser.open(f"{portal_url}/admin/login")
        browser.click("form[action$='/login/certifikat'] button")
        browser.open(f"{portal_url}/admin/tildelinger")
        assert login.replace("\\", "\\") in browser.page or "chrome_analyst" in browser.page
        _visit(browser, "07-tildelinger")
        browser.open(f"{portal_url}/admin/brugere/{user_id}")
        browser.click(f"form[action$='/tildelinger/{grant.id}/godkend'] button")
        assert "Venter på godkendelse" not in browser.page
        browser.click("form.logout button")
        assert browser.url.endswith("/admin/login")

    approved = world.store.get_grant(OPERATOR, grant.id)
    assert approved.approved_by == second.login and not approved.awaiting_approval
    operations = {r.event.operation for r in world.store.audit_log().query() if r.event.login in (officer.login, second.login)}
    assert {"admin.session.login", "admin.user.add", "admin.certificate.issue", "admin.grant.add",
            "admin.certificate.revoke", "admin.grant.approve", "admin.session.logout"} <= operations

    auditor = make_person(world, "101", Role.AUDITOR, name="chrome_rev")
    with chromium(tmp_path / "auditor", p12=auditor.p12_path, password=auditor.p12_password, ca_file=world.ca_file) as browser:
        browser.open(f"{portal_url}/admin/login")
        browser.click("form[action$='/login/certifikat'] button")
        browser.open(f"{portal_url}/admin/revision?rapport=admin&login={officer.login.replace(chr(92), '%5C')}&orden=aeldste")
        for operation in ("admin.user.add", "admin.certificate.issue", "admin.grant.add", "admin.certificate.revoke"):
            assert operation in browser.page
        browser.click("form[action$='/revision/verificer'] button")
        assert "intakt" in browser.text("#chain-status") and auditor.login in browser.text("#chain-status")
        _visit(browser, "08-revisionsspor")
        browser.click("#export-csv")
        exported = browser.wait_for_download(".csv").read_text(encoding="utf-8")
        assert "admin.certificate.revoke" in exported and serial.lower() in exported.lower()
        browser.open(f"{portal_url}/admin/revision?login={login.replace(chr(92), '%5C')}&orden=aeldste")
        browser.click("tbody a")
        assert "prev_hash" in browser.page and "execute" in browser.page
        _visit(browser, "09-haendelse")

    operator = make_person(world, "101", Role.OPERATOR, name="chrome_drift")
    with chromium(tmp_path / "operator", p12=operator.p12_path, password=operator.p12_password, ca_file=world.ca_file) as browser:
        browser.open(f"{portal_url}/admin/login")
        browser.click("form[action$='/login/certifikat'] button")
        for number, page in ((10, "kommuner"), (11, "databaser"), (12, "certifikater")):
            browser.open(f"{portal_url}/admin/drift/{page}")
            _visit(browser, f"{number}-drift-{page}")
        browser.open(f"{portal_url}/admin/drift/databaser")
        assert "FLIS Ukraine-101" in browser.page


def test_officer_logs_in_with_openid_connect_in_chromium(world, tmp_path) -> None:
    require_browser()
    require_provider()
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="chrome_oidc")
    with oidc_portal(world) as portal, chromium(tmp_path / "oidc", p12=None, ca_file=world.ca_file) as browser:
        browser.open(f"{portal.url}/admin/login")
        assert "Din browser har ikke vist et gyldigt certifikat" in browser.page  # no certificate presented
        _visit(browser, "13-login-oidc")
        browser.click("#oidc")
        assert browser.url.startswith(portal.issuer)
        browser.fill("input[name=login]", officer.login)
        browser.fill("input[name=password]", "any")
        browser.click("button[type=submit]")
        if browser.url.startswith(portal.issuer):  # the provider's consent page
            browser.click("button[type=submit]")
        assert browser.url == f"{portal.url}/admin/"
        assert officer.login in browser.page
        browser.open(f"{portal.url}/admin/brugere")
        assert "Opret bruger" in browser.page
        browser.click("form.logout button")
    last = world.store.audit_log().query(login=officer.login)[-2:]
    assert [(r.event.operation, r.event.query) for r in last] == [
        ("admin.session.login", "portal login by oidc"), ("admin.session.logout", "portal session ended: logout")
    ]


def test_pages_off_the_happy_path_are_accessible_too(world, portal_url, tmp_path) -> None:
    """axe-core on what an officer meets when something is missing, refused, empty or due: the
    error page (not found, and a refusal in Danish), an empty audit search, the pending-approval
    list and the recertification list with rows in them."""
    import datetime as dt

    require_browser()
    officer = make_person(world, "101", Role.SECURITY_OFFICER, Role.AUDITOR, name="chrome_a11y")
    person = make_person(world, "101", Role.USER, name="chrome_a11y_user")
    world.store.add_grant(OPERATOR, login=person.login, area="voksenhandicap", valid_areas={"voksenhandicap"},
                          purpose="Afventer", level="individual")
    soon = world.store.now() + dt.timedelta(days=10)
    world.store.add_grant(OPERATOR, login=person.login, area="ukraine", valid_areas={"ukraine"}, purpose="Udløber snart",
                          valid_to=soon)
    with chromium(tmp_path / "a11y", p12=officer.p12_path, password=officer.p12_password, ca_file=world.ca_file) as browser:
        browser.open(f"{portal_url}/admin/login")
        browser.click("form[action$='/login/certifikat'] button")

        browser.open(f"{portal_url}/admin/tildelinger")
        assert "Afventer" in browser.page and "Udløber snart" in browser.page  # both lists have rows
        _visit(browser, "14-tildelinger-afventer-og-genbekraeft")

        browser.open(f"{portal_url}/admin/brugere/98765432")
        assert "findes ikke" in browser.page
        _visit(browser, "15-fejl-findes-ikke")

        browser.open(f"{portal_url}/admin/brugere/{person.view.id}")
        browser.select("#area", "ukraine")
        browser.fill("#purpose", " ")
        browser.click(f"form[action$='/brugere/{person.view.id}/tildelinger'] button")
        assert "Angiv formålet" in browser.page  # the store's refusal, in Danish
        _visit(browser, "16-fejl-afvist")

        browser.open(f"{portal_url}/admin/revision?login=ingen-saadan-bruger")
        assert "Ingen" in browser.text("tbody")
        _visit(browser, "17-revision-tom-soegning")
