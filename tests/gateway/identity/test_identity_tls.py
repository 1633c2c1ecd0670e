"""Direct mTLS: real handshakes against uvicorn with the identity step in front of an echo app."""

from __future__ import annotations

import json
import logging
import socket
import ssl
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as websocket_connect

from cryptography.hazmat.primitives import serialization

from gateway.errors import AuthenticationError
from tests.support.servers import serve_in_thread
from gateway.identity.tls import uvicorn_config
from gateway.identity.middleware import NO_CERTIFICATE_MESSAGE

GENERIC = {"errors": [{"message": str(AuthenticationError()), "extensions": {"code": "UNAUTHENTICATED"}}]}


def _client(pki: Any, name: str | None) -> httpx.Client:
    return httpx.Client(verify=pki.client_context(name), timeout=5.0)


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_valid_certificate_resolves_principal(pki: Any, tls_gateway: Any, http: str) -> None:
    with tls_gateway(http=http) as gateway, _client(pki, "alice") as client:
        response = client.get(f"{gateway.url}/whoami")
    assert response.status_code == 200
    body = response.json()
    assert body["login"] == "alice"
    assert body["fingerprint"] == pki.clients["alice"].fingerprint
    assert body["tls_version"] in (0x0303, 0x0304)
    assert "CN=" in body["client_cert_name"]
    assert gateway.refusals.seen == []


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_revoked_cert_is_refused_on_next_request_of_kept_alive_connection(
    pki: Any, tls_gateway: Any, http: str
) -> None:
    with tls_gateway(http=http) as gateway, _client(pki, "alice") as client:
        first = client.get(f"{gateway.url}/whoami")
        assert first.status_code == 200
        gateway.source.revoke(pki.clients["alice"].fingerprint)
        second = client.get(f"{gateway.url}/whoami")
    assert second.status_code == 401
    assert second.json() == GENERIC
    [(reason, fingerprint, peer)] = gateway.refusals.seen
    assert reason == "revoked"
    assert fingerprint == pki.clients["alice"].fingerprint
    assert peer[1] == first.json()["client_port"]  # the same TCP connection, no new handshake


def _raw_get(tls: ssl.SSLSocket) -> tuple[int, bytes]:
    tls.sendall(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := tls.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_revoked_cert_is_refused_on_resumed_tls_session(pki: Any, tls_gateway: Any) -> None:
    context = pki.client_context("alice")
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # session ids: resumption is observable at once
    with tls_gateway() as gateway:
        address = (gateway.server.host, gateway.server.port)
        with socket.create_connection(address) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert _raw_get(tls)[0] == 200
            session = tls.session
        gateway.source.revoke(pki.clients["alice"].fingerprint)
        with socket.create_connection(address) as raw, context.wrap_socket(
            raw, server_hostname="localhost", session=session
        ) as tls:
            assert tls.session_reused
            status, body = _raw_get(tls)
    assert status == 401
    assert json.loads(body) == GENERIC
    assert gateway.refusals.reasons == ["revoked"]


@pytest.mark.parametrize("name", ["expired", "future", "stranger", "server"])
def test_tls12_handshake_fails_without_a_usable_client_certificate(
    pki: Any, tls_gateway: Any, name: str | None
) -> None:
    """Expired, not yet valid, another CA, a server certificate (wrong EKU)."""
    context = pki.client_context(name)
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # the server's verdict lands inside the handshake
    with tls_gateway() as gateway, httpx.Client(verify=context, timeout=5.0) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(f"{gateway.url}/whoami")
    assert gateway.refusals.seen == []  # refused by TLS itself, the app never saw a request


@pytest.mark.parametrize("name", ["expired", "future", "stranger", "server"])
def test_tls13_connection_is_dropped_without_a_usable_client_certificate(
    pki: Any, tls_gateway: Any, name: str | None
) -> None:
    """TLS 1.3 verifies the client after the client's Finished: the first request gets no answer."""
    with tls_gateway() as gateway, _client(pki, name) as client:
        with pytest.raises(httpx.TransportError):
            client.get(f"{gateway.url}/whoami")
    assert gateway.refusals.seen == []


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_a_client_without_a_certificate_is_told_one_is_required(pki: Any, tls_gateway: Any, version: ssl.TLSVersion) -> None:
    """Not a connection reset: a 401 saying a certificate is required, with a request id, and a refusal on record."""
    context = pki.client_context(None)
    context.minimum_version = context.maximum_version = version
    with tls_gateway() as gateway, httpx.Client(verify=context, timeout=5.0) as client:
        response = client.get(f"{gateway.url}/whoami")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": NO_CERTIFICATE_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert len(response.headers["x-request-id"]) == 32
    assert gateway.refusals.reasons == ["no_certificate"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("expired", "certificate has expired"), ("stranger", "unable to get local issuer certificate"),
     ("future", "certificate is not yet valid")],
)
def test_a_handshake_refusal_is_logged_with_its_reason(
    pki: Any, tls_gateway: Any, caplog: pytest.LogCaptureFixture, name: str, reason: str
) -> None:
    context = pki.client_context(name)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with caplog.at_level(logging.INFO, logger="gateway.identity.tls"):
        with tls_gateway() as gateway, httpx.Client(verify=context, timeout=5.0) as client:
            with pytest.raises(httpx.ConnectError):
                client.get(f"{gateway.url}/whoami")
    logged = [record.getMessage() for record in caplog.records if record.name == "gateway.identity.tls"]
    assert any("TLS handshake refused" in line and reason in line for line in logged), logged


def test_valid_certificate_of_unknown_user_is_refused(pki: Any, tls_gateway: Any) -> None:
    with tls_gateway() as gateway, _client(pki, "bob") as client:
        response = client.get(f"{gateway.url}/whoami")
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.seen[0][:2] == ("unknown_or_inactive", pki.clients["bob"].fingerprint)


def test_suspended_user_is_refused_on_next_request(pki: Any, tls_gateway: Any) -> None:
    with tls_gateway() as gateway, _client(pki, "carol") as client:
        assert client.get(f"{gateway.url}/whoami").status_code == 200
        gateway.source.suspend("carol")
        response = client.get(f"{gateway.url}/whoami")
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["unknown_or_inactive"]


@pytest.mark.parametrize("header", ["X-SSL-Client-Cert", "X-Forwarded-Client-Cert"])
def test_forged_forwarding_header_from_untrusted_peer_is_refused(pki: Any, tls_gateway: Any, header: str) -> None:
    """A valid TLS client that also claims to be someone else via a proxy header is refused."""
    forged = pki.clients["carol"].pem().replace("\n", "%0A")
    with tls_gateway() as gateway, _client(pki, "alice") as client:
        response = client.get(f"{gateway.url}/whoami", headers={header: forged})
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["forwarded_certificate_from_untrusted_peer: peer 127.0.0.1"]


def test_websocket_receives_tls_extension_and_principal(pki: Any, tls_gateway: Any) -> None:
    with tls_gateway() as gateway:
        url = f"wss://localhost:{gateway.server.port}/whoami"
        with websocket_connect(url, ssl=pki.client_context("alice")) as websocket:
            assert websocket.recv(timeout=5) == "alice"


def test_websocket_of_revoked_certificate_is_closed_before_accept(pki: Any, tls_gateway: Any) -> None:
    gateway_ctx = tls_gateway()
    with gateway_ctx as gateway:
        gateway.source.revoke(pki.clients["alice"].fingerprint)
        url = f"wss://localhost:{gateway.server.port}/whoami"
        with pytest.raises(Exception) as refused:
            with websocket_connect(url, ssl=pki.client_context("alice")) as websocket:
                websocket.recv(timeout=5)
    assert "403" in str(refused.value)
    assert gateway.refusals.reasons == ["revoked"]


def test_the_server_key_may_be_stored_encrypted(pki: Any, tmp_path: Any) -> None:
    """DATAADGANG_TLS_KEY_PASSPHRASE: uvicorn loads the encrypted key with it and serves mTLS."""
    key = serialization.load_pem_private_key(pki.server_key.read_bytes(), password=None)
    encrypted = tmp_path / "server.key"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")
    ))

    async def hello(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})

    config = uvicorn_config(hello, host="127.0.0.1", port=0, certfile=str(pki.server_cert), keyfile=str(encrypted),
                            keyfile_password="s3cret", ca_file=str(pki.ca_file), lifespan="off", log_level="warning")
    with serve_in_thread(config) as server, _client(pki, "alice") as client:
        assert client.get(f"{server.url}/").text == "hello"
