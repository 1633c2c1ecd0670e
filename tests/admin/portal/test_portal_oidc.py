"""OpenID Connect login against a real provider (oidc-provider, started by the test): discovery,
authorization code with PKCE, the ID token's signature, issuer, audience, expiry and nonce, the
state round trip, and logout at both ends."""

from __future__ import annotations

import base64
import json
import ssl
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from admin.portal.oidc import OIDCClient, OIDCConfig, OIDCError
from gateway.principal import Role
from tests.admin.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, oidc_portal, require_provider, sign_in_at_provider
from tests.admin.portal.portal_world import make_person


@pytest.fixture(scope="module")
def portal(world):
    require_provider()
    with oidc_portal(world) as running:
        yield running


def _browser(world, portal) -> httpx.Client:
    """A browser without any client certificate."""
    return httpx.Client(base_url=portal.url, verify=ssl.create_default_context(cafile=str(world.ca_file)), timeout=30.0)


def _login(world, portal, login: str) -> tuple[httpx.Client, httpx.Response]:
    client = _browser(world, portal)
    start = client.get("/admin/login/oidc")
    assert start.status_code == 303
    return client, sign_in_at_provider(client, start, login)


def test_an_officer_logs_in_with_openid_connect_and_pkce(world, portal) -> None:
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="oidc_so")
    client = _browser(world, portal)
    page = client.get("/admin/login")
    assert 'href="/admin/login/oidc"' in page.text
    start = client.get("/admin/login/oidc")
    query = parse_qs(urlparse(start.headers["location"]).query)
    assert start.headers["location"].startswith(portal.issuer + "/auth")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0] and query["scope"] == ["openid profile"]
    landed = sign_in_at_provider(client, start, officer.login)
    assert landed.status_code == 200 and landed.url.path == "/admin/" and officer.login in landed.text
    home = client.get("/admin/brugere")
    assert home.status_code == 200 and officer.login in home.text
    last = world.store.audit_log().query(login=officer.login)[-1].event
    assert (last.operation, last.query) == ("admin.session.login", "portal login by oidc")
    client.close()


def test_logout_ends_the_portal_session_and_the_providers(world, portal) -> None:
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="oidc_out")
    client, _ = _login(world, portal, officer.login)
    page = client.get("/admin/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    logout = client.post("/admin/logout", data={"csrf_token": token})
    assert logout.status_code == 303
    target = logout.headers["location"]
    assert target.startswith(portal.issuer + "/session/end") and "id_token_hint=" in target
    assert client.get("/admin/").status_code == 303  # the portal session is gone
    client.close()


def test_a_login_without_a_portal_role_or_unknown_to_the_store_is_refused(world, portal) -> None:
    analyst = make_person(world, "101", Role.USER, name="oidc_user")
    for login, kommune, reason in ((analyst.login, "101", "NO_PORTAL_ROLE"), ("komb-fli-prod\\nobody_here", None, "UNKNOWN_USER")):
        client, landed = _login(world, portal, login)
        assert landed.status_code == 403
        assert client.get("/admin/").status_code == 303
        client.close()
        refused = world.store.audit_log().query(login=login)[-1].event
        assert (refused.operation, refused.outcome, refused.kommune_kode) == ("admin.session.login", "denied", kommune)
        assert refused.reason.startswith(reason) and refused.query.startswith("portal login by oidc refused")


def test_a_forged_state_logs_nobody_in(world, portal) -> None:
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="oidc_state")
    client = _browser(world, portal)
    start = client.get("/admin/login/oidc")
    callback = sign_in_at_provider(client, start, officer.login, stop_at_callback=True)
    location = callback.headers["location"]
    forged = location.replace("state=", "state=forged")
    before = len(world.store.audit_log().query(outcome="denied"))
    assert client.get(forged).status_code == 403
    refusals = world.store.audit_log().query(outcome="denied")[before:]
    assert [(r.event.operation, r.event.login) for r in refusals] == [("admin.session.login", None)]
    assert refusals[0].event.reason.startswith("OIDC:")
    assert client.get("/admin/").status_code == 303
    client.cookies.delete("__Host-dataadgang-oidc")
    assert client.get(location).status_code == 403  # the real code, but not from the browser that started
    client.close()


def _id_token(world, portal, login: str) -> tuple[str, str]:
    """An ID token and its nonce, as the provider issues them to the portal."""
    config = OIDCConfig(portal.issuer, CLIENT_ID, CLIENT_SECRET, "preferred_username")
    oidc = OIDCClient(config, b"k" * 32)
    client = _browser(world, portal)
    started = oidc.start(f"{portal.url}/admin/login/oidc/callback")
    client.cookies.set("__Host-dataadgang-oidc", started.cookie)
    callback = sign_in_at_provider(client, client.get(started.url), login, stop_at_callback=True)
    query = parse_qs(urlparse(callback.headers["location"]).query)
    pending = oidc._unsign(started.cookie)
    with oidc._client(f"{portal.url}/admin/login/oidc/callback") as token_client:
        token = token_client.fetch_token(
            oidc.metadata()["token_endpoint"], code=query["code"][0], code_verifier=pending["verifier"], grant_type="authorization_code"
        )
    client.close()
    return token["id_token"], pending["nonce"]


def test_the_id_token_is_checked_signature_nonce_audience_and_expiry(world, portal) -> None:
    officer = make_person(world, "101", Role.SECURITY_OFFICER, name="oidc_tok")
    id_token, nonce = _id_token(world, portal, officer.login)
    oidc = OIDCClient(OIDCConfig(portal.issuer, CLIENT_ID, CLIENT_SECRET, "preferred_username"), b"k" * 32)
    assert oidc.verify_id_token(id_token, nonce=nonce)["preferred_username"] == officer.login

    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["preferred_username"] = "komb-fli-prod\\k101_admin"
    tampered = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    with pytest.raises(OIDCError):
        oidc.verify_id_token(tampered, nonce=nonce)
    with pytest.raises(OIDCError, match="nonce"):
        oidc.verify_id_token(id_token, nonce="another-login")
    with pytest.raises(OIDCError):
        oidc.verify_id_token(id_token, nonce=nonce, now=time.time() + 2 * 3600)  # expired
    other_audience = OIDCClient(OIDCConfig(portal.issuer, "someone-else", CLIENT_SECRET, "preferred_username"), b"k" * 32)
    with pytest.raises(OIDCError, match="aud"):
        other_audience.verify_id_token(id_token, nonce=nonce)
