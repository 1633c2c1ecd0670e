"""Behind a proxy: the gateway on plain loopback HTTP believes a certificate header only from a
trusted proxy and verifies the forwarded certificate again against our CA."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.errors import AuthenticationError

GENERIC = {"errors": [{"message": str(AuthenticationError()), "extensions": {"code": "UNAUTHENTICATED"}}]}


def nginx_escaped(pem: str) -> str:
    """What nginx's $ssl_client_escaped_cert looks like."""
    return quote(pem, safe="")


def xfcc(pem: str, *, digest: str | None = None) -> str:
    parts = ["By=spiffe://dataadgang/gateway", f'Cert="{quote(pem, safe="")}"']
    if digest is not None:
        parts.insert(1, f"Hash={digest}")
    return ";".join(parts + ['Subject="CN=x,O=dataadgang"', "URI=urn:dataadgang:user:101:alice"])


def _get(gateway: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{gateway.url}/whoami", headers=headers, timeout=5.0)


def test_certificate_from_trusted_proxy_resolves_principal(pki: Any, proxied_gateway: Any) -> None:
    with proxied_gateway() as gateway:
        response = _get(gateway, {"X-SSL-Client-Cert": nginx_escaped(pki.clients["alice"].pem())})
    assert response.status_code == 200
    assert response.json()["login"] == "alice"


def test_envoy_xfcc_from_trusted_proxy_resolves_principal(pki: Any, proxied_gateway: Any) -> None:
    alice = pki.clients["alice"]
    with proxied_gateway(header="x-forwarded-client-cert") as gateway:
        response = _get(gateway, {"X-Forwarded-Client-Cert": xfcc(alice.pem(), digest=alice.fingerprint)})
    assert response.status_code == 200
    assert response.json()["login"] == "alice"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("expired", "expired"),
        ("future", "not_yet_valid"),
        ("stranger", "not_issued_by_our_ca"),
        ("server", "not_a_client_certificate: no clientAuth usage"),
        ("bob", "unknown_or_inactive"),
    ],
)
def test_forwarded_certificate_is_verified_again(
    pki: Any, proxied_gateway: Any, name: str, reason: str
) -> None:
    with proxied_gateway() as gateway:
        response = _get(gateway, {"X-SSL-Client-Cert": nginx_escaped(pki.clients[name].pem())})
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == [reason]


def test_forwarded_revoked_certificate_is_refused(pki: Any, proxied_gateway: Any) -> None:
    headers = {"X-SSL-Client-Cert": nginx_escaped(pki.clients["alice"].pem())}
    with proxied_gateway() as gateway, httpx.Client(timeout=5.0) as client:
        assert client.get(f"{gateway.url}/whoami", headers=headers).status_code == 200
        gateway.source.revoke(pki.clients["alice"].fingerprint)
        response = client.get(f"{gateway.url}/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["revoked"]


def test_forged_header_from_untrusted_address_is_refused(pki: Any, proxied_gateway: Any) -> None:
    with proxied_gateway(trusted=("10.0.0.0/8",)) as gateway:
        response = _get(gateway, {"X-SSL-Client-Cert": nginx_escaped(pki.clients["alice"].pem())})
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["forwarded_certificate_from_untrusted_peer: peer 127.0.0.1"]


def test_direct_request_without_proxy_in_proxy_mode_is_refused(proxied_gateway: Any) -> None:
    with proxied_gateway(trusted=("10.0.0.0/8",)) as gateway:
        response = _get(gateway, {})
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["direct_connection_in_proxy_mode: peer 127.0.0.1"]


@pytest.mark.parametrize(
    "value",
    [
        "not a certificate",
        "-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----%0A",
        "",
    ],
)
def test_malformed_header_is_refused(proxied_gateway: Any, value: str) -> None:
    with proxied_gateway() as gateway:
        response = _get(gateway, {"X-SSL-Client-Cert": value})
    assert response.status_code == 401
    assert response.json() == GENERIC
    [reason] = gateway.refusals.reasons
    assert reason.startswith("malformed_certificate_header")


def test_two_certificates_in_one_header_are_refused(pki: Any, proxied_gateway: Any) -> None:
    both = pki.clients["alice"].pem() + pki.clients["carol"].pem()
    with proxied_gateway() as gateway:
        response = _get(gateway, {"X-SSL-Client-Cert": nginx_escaped(both)})
    assert response.status_code == 401
    assert gateway.refusals.reasons[0].startswith("malformed_certificate_header")


def test_repeated_header_is_refused(pki: Any, proxied_gateway: Any) -> None:
    value = nginx_escaped(pki.clients["alice"].pem())
    with proxied_gateway() as gateway:
        response = httpx.get(
            f"{gateway.url}/whoami",
            headers=[("X-SSL-Client-Cert", value), ("X-SSL-Client-Cert", value)],
            timeout=5.0,
        )
    assert response.status_code == 401
    assert gateway.refusals.reasons == ["malformed_certificate_header: x-ssl-client-cert repeated"]


def test_xfcc_hash_that_differs_from_cert_is_refused(pki: Any, proxied_gateway: Any) -> None:
    forged = xfcc(pki.clients["alice"].pem(), digest=pki.clients["carol"].fingerprint)
    with proxied_gateway(header="x-forwarded-client-cert") as gateway:
        response = _get(gateway, {"X-Forwarded-Client-Cert": forged})
    assert response.status_code == 401
    assert gateway.refusals.reasons == ["malformed_certificate_header: XFCC Hash differs from Cert"]
