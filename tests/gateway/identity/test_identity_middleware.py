"""The middleware's own promises: pass-through, fail closed, expiry on a kept-alive connection."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cryptography import x509

from gateway.errors import AuthenticationError
from gateway.identity.middleware import IdentityMiddleware, identity_middleware
from tests.support.identity import InMemoryIdentitySource
from gateway.principal import Principal
from gateway.settings import Settings

GENERIC = {"errors": [{"message": str(AuthenticationError()), "extensions": {"code": "UNAUTHENTICATED"}}]}


def _ca_certificates(pki: Any) -> list[x509.Certificate]:
    return [pki.ca.certificate]


def test_lifespan_passes_through_untouched(pki: Any, settings: Settings) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = identity_middleware(
        app, settings=replace(settings, crl_file=pki.ca.crl_path), source=InMemoryIdentitySource(), ca_certificates=_ca_certificates(pki)
    )

    async def never() -> Any:
        raise AssertionError("not called")

    asyncio.run(middleware({"type": "lifespan"}, never, never))
    assert seen == [{"type": "lifespan"}]


def test_settings_choose_the_mode(pki: Any, settings: Settings) -> None:
    from dataclasses import replace

    async def app(scope: Any, receive: Any, send: Any) -> None: ...

    source = InMemoryIdentitySource()
    with pytest.raises(ValueError, match="DATAADGANG_TRUSTED_PROXIES"):
        identity_middleware(
            app, settings=replace(settings, identity_mode="proxy"), source=source, ca_certificates=_ca_certificates(pki)
        )
    with pytest.raises(ValueError):
        identity_middleware(
            app, settings=replace(settings, identity_mode="cn"), source=source, ca_certificates=_ca_certificates(pki)
        )
    proxied = replace(settings, identity_mode="proxy", trusted_proxies=("127.0.0.1/32",))
    assert isinstance(identity_middleware(app, settings=proxied, source=source, ca_certificates=_ca_certificates(pki)), IdentityMiddleware)


def test_certificate_expiring_during_kept_alive_connection_is_refused(pki: Any, tls_gateway: Any) -> None:
    alice = pki.clients["alice"]
    now = [dt.datetime.now(dt.timezone.utc)]
    with tls_gateway(clock=lambda: now[0]) as gateway, httpx.Client(verify=pki.client_context("alice")) as client:
        first = client.get(f"{gateway.url}/whoami")
        assert first.status_code == 200
        now[0] = alice.issued.not_after + dt.timedelta(seconds=1)
        second = client.get(f"{gateway.url}/whoami")
    assert second.status_code == 401
    assert second.json() == GENERIC
    [(reason, _, peer)] = gateway.refusals.seen
    assert reason == "expired"
    assert peer[1] == first.json()["client_port"]


class BrokenSource(InMemoryIdentitySource):
    def revision(self) -> int:
        raise ConnectionError("metadata store is down")


def _drive(middleware: IdentityMiddleware, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


def _tls_scope(pki: Any, name: str) -> dict[str, Any]:
    return {
        "type": "http",
        "client": ("127.0.0.1", 50000),
        "headers": [],
        "extensions": {"tls": {"client_cert_chain": [pki.clients[name].pem()]}},
    }


def test_identity_source_failure_fails_closed(pki: Any, settings: Settings) -> None:
    reasons: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    async def on_refused(scope: Any, reason: str, fingerprint: str | None) -> None:
        reasons.append(reason)

    middleware = identity_middleware(
        app, settings=replace(settings, crl_file=pki.ca.crl_path), source=BrokenSource(), ca_certificates=_ca_certificates(pki), on_refused=on_refused
    )
    sent = _drive(middleware, _tls_scope(pki, "alice"))
    assert sent[0]["status"] == 503
    assert b"metadata" not in sent[1]["body"]
    assert reasons == ["identity_source_unavailable: ConnectionError"]


def test_failing_audit_callback_still_refuses(pki: Any, settings: Settings) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    async def on_refused(scope: Any, reason: str, fingerprint: str | None) -> None:
        raise RuntimeError("audit down")

    middleware = identity_middleware(
        app, settings=replace(settings, crl_file=pki.ca.crl_path), source=InMemoryIdentitySource(), ca_certificates=_ca_certificates(pki), on_refused=on_refused
    )
    sent = _drive(middleware, _tls_scope(pki, "bob"))
    assert sent[0]["status"] == 401


def test_offloaded_lookup_sets_principal(pki: Any, settings: Settings) -> None:
    """With a blocking source (a database) lookups run in a worker thread; same result."""
    alice = pki.clients["alice"].issued
    source = InMemoryIdentitySource()
    source.add(
        Principal(
            user_id=1,
            login="alice",
            kommune_kode="101",
            roles=frozenset(),
            cert_fingerprint=alice.fingerprint,
            cert_serial=alice.serial,
            cert_not_after=alice.not_after,
        )
    )
    reached: list[Principal] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["principal"])

    middleware = identity_middleware(
        app, settings=replace(settings, crl_file=pki.ca.crl_path), source=source, ca_certificates=_ca_certificates(pki), offload_lookups=True
    )
    assert _drive(middleware, _tls_scope(pki, "alice")) == []
    assert [principal.login for principal in reached] == ["alice"]
