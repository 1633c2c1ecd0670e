"""Real certificates from admin.pki, a real uvicorn on port 0, an in-memory identity source."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from admin.pki import CertificateAuthority, IssuedCertificate
from gateway.identity.extract import CertificateExtractor, IdentityMode
from gateway.identity.middleware import IdentityMiddleware
from gateway.identity.proxy import TrustedProxies
from gateway.identity.resolver import IdentityResolver
from tests.support.servers import RunningServer, serve_in_thread
from tests.support.identity import InMemoryIdentitySource
from gateway.identity.tls import uvicorn_config, uvicorn_config_behind_proxy
from gateway.identity.verify import ClientCertificateVerifier
from gateway.principal import Principal, Role

GENERIC_MESSAGE = "A valid client certificate issued by dataadgang is required."


@dataclass(frozen=True)
class ClientFiles:
    issued: IssuedCertificate
    cert_path: Path
    key_path: Path

    @property
    def fingerprint(self) -> str:
        return self.issued.fingerprint

    def pem(self) -> str:
        return self.issued.certificate_pem().decode()


@dataclass(frozen=True)
class Pki:
    """One CA per test session (RSA 3072 keys are slow to make), plus a stranger's CA."""

    ca: CertificateAuthority
    other_ca: CertificateAuthority
    server_cert: Path
    server_key: Path
    clients: dict[str, ClientFiles] = field(default_factory=dict)

    @property
    def ca_file(self) -> Path:
        return self.ca.ca_cert_path

    def client_context(self, name: str | None) -> ssl.SSLContext:
        """What a BI tool does: trust our CA for the server, present a client certificate."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if name is not None:
            files = self.clients[name]
            context.load_cert_chain(str(files.cert_path), str(files.key_path))
        return context


def _write(directory: Path, name: str, issued: IssuedCertificate) -> ClientFiles:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(issued.certificate_pem())
    key_path.write_bytes(issued.private_key_pem())
    key_path.chmod(0o600)
    return ClientFiles(issued, cert_path, key_path)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(root / "ca")
    other_ca = CertificateAuthority.create(root / "other-ca", common_name="dataadgang CA")  # same name, other key
    server = ca.issue_server_certificate(["localhost", "127.0.0.1"], out_dir=root / "server")
    now = dt.datetime.now(dt.timezone.utc)
    files = root / "clients"
    files.mkdir()
    issued = {
        "alice": ca.issue_client_certificate(login="alice", kommune_kode="101"),
        "bob": ca.issue_client_certificate(login="bob", kommune_kode="101"),  # never registered
        "carol": ca.issue_client_certificate(login="carol", kommune_kode="147"),  # suspended in tests
        "expired": ca.issue_client_certificate(
            login="old", kommune_kode="101", not_before=now - dt.timedelta(days=3), valid_days=1
        ),
        "future": ca.issue_client_certificate(
            login="early", kommune_kode="101", not_before=now + dt.timedelta(days=2), valid_days=30
        ),
        "stranger": other_ca.issue_client_certificate(login="alice", kommune_kode="101"),
        "server": server,
        "revoked": ca.issue_client_certificate(login="dave", kommune_kode="101"),  # in the CA's CRL
    }
    ca.revoke(issued["revoked"].serial)  # publishes crl.pem for nginx
    clients = {name: _write(files, name, cert) for name, cert in issued.items()}
    return Pki(
        ca=ca,
        other_ca=other_ca,
        server_cert=root / "server" / "server.crt",
        server_key=root / "server" / "server.key",
        clients=clients,
    )


def principal_of(files: ClientFiles, *, user_id: int = 1) -> Principal:
    """The principal the store would hold for this certificate (login = the file's name)."""
    issued = files.issued
    return Principal(
        user_id=user_id,
        login=files.cert_path.stem,
        kommune_kode="101",
        roles=frozenset({Role.USER}),
        cert_fingerprint=issued.fingerprint,
        cert_serial=issued.serial,
        cert_not_after=issued.not_after,
    )


@dataclass
class Refusals:
    """What the audit trail would have recorded, as the ``on_refused`` callback saw it."""

    seen: list[tuple[str, str | None, Any]] = field(default_factory=list)

    async def __call__(self, scope: Any, reason: str, fingerprint: str | None) -> None:
        self.seen.append((reason, fingerprint, scope.get("client")))

    @property
    def reasons(self) -> list[str]:
        return [reason for reason, _, _ in self.seen]


async def whoami(scope: Any, receive: Any, send: Any) -> None:
    """The echo endpoint: who the identity step says is calling, and over which connection."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    principal: Principal = scope["principal"]
    tls = (scope.get("extensions") or {}).get("tls") or {}
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": principal.login})
        await send({"type": "websocket.close", "code": 1000})
        return
    body = json.dumps(
        {
            "login": principal.login,
            "fingerprint": principal.cert_fingerprint,
            "client_port": scope["client"][1],
            "tls_version": tls.get("tls_version"),
            "client_cert_name": tls.get("client_cert_name"),
            "forwarded_headers": sorted(
                {name.decode() for name, _ in scope["headers"] if name in (b"x-ssl-client-cert", b"x-forwarded-client-cert")}
            ),
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Gateway:
    """A running gateway under test and the knobs a test turns."""

    server: RunningServer
    source: InMemoryIdentitySource
    refusals: Refusals

    @property
    def url(self) -> str:
        return self.server.url


def build_middleware(
    pki: Pki,
    source: InMemoryIdentitySource,
    refusals: Refusals,
    *,
    mode: IdentityMode,
    trusted: tuple[str, ...] = (),
    header: str = "x-ssl-client-cert",
    clock: Callable[[], dt.datetime] | None = None,
) -> IdentityMiddleware:
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    return IdentityMiddleware(
        whoami,
        extractor=CertificateExtractor(mode=mode, trusted_proxies=TrustedProxies.parse(trusted), header=header),
        verifier=ClientCertificateVerifier.from_pem_file(pki.ca_file),
        resolver=IdentityResolver(source),
        on_refused=refusals,
        **extra,
    )


@pytest.fixture
def source(pki: Pki) -> InMemoryIdentitySource:
    """alice and carol are registered users; bob has a valid certificate but no user."""
    source = InMemoryIdentitySource()
    source.add(principal_of(pki.clients["alice"], user_id=1))
    source.add(principal_of(pki.clients["carol"], user_id=3))
    return source


@pytest.fixture
def tls_gateway(pki: Pki, source: InMemoryIdentitySource) -> Callable[..., AbstractContextManager[Gateway]]:
    """Direct mTLS: uvicorn terminates TLS with the identity middleware in front of ``whoami``."""

    def start(http: str = "httptools", trusted: tuple[str, ...] = (), **kw: Any) -> AbstractContextManager[Gateway]:
        refusals = Refusals()
        app = build_middleware(pki, source, refusals, mode=IdentityMode.TLS, trusted=trusted, **kw)
        config = uvicorn_config(
            app,
            host="127.0.0.1",
            port=0,
            certfile=str(pki.server_cert),
            keyfile=str(pki.server_key),
            ca_file=str(pki.ca_file),
            http=http,
            lifespan="off",
            log_level="warning",
        )
        return _running(config, source, refusals)

    return start


@pytest.fixture
def proxied_gateway(pki: Pki, source: InMemoryIdentitySource) -> Callable[..., AbstractContextManager[Gateway]]:
    """Behind a proxy: plain HTTP on loopback, the certificate arrives in a header."""

    def start(trusted: tuple[str, ...] = ("127.0.0.1/32",), **kw: Any) -> AbstractContextManager[Gateway]:
        refusals = Refusals()
        app = build_middleware(pki, source, refusals, mode=IdentityMode.PROXY, trusted=trusted, **kw)
        config = uvicorn_config_behind_proxy(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
        return _running(config, source, refusals)

    return start


@contextmanager
def _running(config: Any, source: InMemoryIdentitySource, refusals: Refusals) -> Iterator[Gateway]:
    with serve_in_thread(config) as server:
        yield Gateway(server, source, refusals)
