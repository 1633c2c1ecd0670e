"""deploy/nginx/dataadgang.conf with a real nginx in front of the gateway (proxy mode).

nginx runs in the foreground with a config generated in tmp_path from the shipped server
block (paths and ports substituted, each substitution checked so the test follows the file).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from admin.pki import CertificateAuthority
from admin.pki.hook import PublishHookError
from gateway.errors import AuthenticationError
from gateway.identity.middleware import NO_CERTIFICATE_MESSAGE
from gateway.principal import Principal, Role
from gateway.settings import PROJECT_ROOT
from tests.support.missing import missing_part

pytestmark = pytest.mark.nginx

SHIPPED = PROJECT_ROOT / "deploy" / "nginx" / "dataadgang.conf"
GENERIC = {"errors": [{"message": str(AuthenticationError()), "extensions": {"code": "UNAUTHENTICATED"}}]}


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        message = "nginx is not installed (scripts/setup --test installs it)"
        missing_part(message)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _substitute(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{SHIPPED.name} no longer contains {old!r} exactly once"
    return text.replace(old, new)


def render_config(prefix: Path, pki: Any, *, listen: int, upstream: int) -> Path:
    server_block = SHIPPED.read_text()
    for old, new in [
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{listen} ssl;"),
        ("/etc/dataadgang/tls/server.crt", str(pki.server_cert)),
        ("/etc/dataadgang/tls/server.key", str(pki.server_key)),
        ("/var/lib/dataadgang/ca/ca.crt.pem", str(pki.ca.ca_cert_path)),
        ("/var/lib/dataadgang/ca/crl.pem", str(pki.ca.crl_path)),
    ]:
        server_block = _substitute(server_block, old, new)
    temp = prefix / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read tmp_path (mode 0700)
    config = prefix / "nginx.conf"
    config.write_text(
        f"""{user}worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server_block}
}}
"""
    )
    return config


@dataclass(frozen=True)
class Nginx:
    url: str
    process: subprocess.Popen[bytes]
    reload_command: str  # what an operator puts into DATAADGANG_CRL_PUBLISH_HOOK


@pytest.fixture
def nginx_front(nginx_binary: str, pki: Any, tmp_path: Path) -> Iterator[Any]:
    """Start the gateway (proxy mode, trusting loopback) and nginx in front of it."""
    running: list[subprocess.Popen[bytes]] = []

    def start(gateway: Any) -> Nginx:
        listen = _free_port()
        config = render_config(tmp_path, pki, listen=listen, upstream=gateway.server.port)
        where = [nginx_binary, "-p", str(tmp_path), "-c", str(config)]
        process = subprocess.Popen(
            [*where, "-g", f"daemon off; pid {tmp_path}/nginx.pid; error_log stderr;"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        running.append(process)
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("nginx did not start") from None
                time.sleep(0.02)
        reload_command = shlex.join([*where, "-g", f"pid {tmp_path}/nginx.pid;", "-s", "reload"])
        return Nginx(url=f"https://localhost:{listen}", process=process, reload_command=reload_command)

    yield start
    for process in running:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _client(pki: Any, name: str | None) -> httpx.Client:
    return httpx.Client(verify=pki.client_context(name), timeout=5.0)


def test_nginx_forwards_the_verified_certificate_and_strips_forged_headers(
    pki: Any, proxied_gateway: Any, nginx_front: Any
) -> None:
    forged = {
        "X-SSL-Client-Cert": pki.clients["carol"].pem().replace("\n", "%0A"),
        "X-Forwarded-Client-Cert": 'Cert="forged"',
    }
    with proxied_gateway() as gateway, _client(pki, "alice") as client:
        nginx = nginx_front(gateway)
        plain = client.get(f"{nginx.url}/whoami")
        with_forgery = client.get(f"{nginx.url}/whoami", headers=forged)
    assert plain.status_code == 200, plain.text
    assert plain.json()["login"] == "alice"
    assert with_forgery.status_code == 200
    assert with_forgery.json()["login"] == "alice"
    assert with_forgery.json()["forwarded_headers"] == ["x-ssl-client-cert"]
    assert gateway.refusals.seen == []


@pytest.mark.parametrize("name", ["expired", "future", "stranger", "server"])
def test_nginx_refuses_unusable_certificates_with_the_generic_answer(
    pki: Any, proxied_gateway: Any, nginx_front: Any, name: str | None
) -> None:
    with proxied_gateway() as gateway, _client(pki, name) as client:
        nginx = nginx_front(gateway)
        response = client.get(f"{nginx.url}/whoami")
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert len(response.headers["x-request-id"]) == 32
    assert gateway.refusals.seen == []  # stopped at the edge


def test_nginx_tells_a_client_without_a_certificate_that_one_is_required(
    pki: Any, proxied_gateway: Any, nginx_front: Any
) -> None:
    """The same answer the gateway gives in direct-TLS mode (one message, whichever layer answers)."""
    with proxied_gateway() as gateway, _client(pki, None) as client:
        nginx = nginx_front(gateway)
        response = client.get(f"{nginx.url}/whoami")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": NO_CERTIFICATE_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert len(response.headers["x-request-id"]) == 32


def test_nginx_picks_up_a_newly_published_crl_through_the_publish_hook(
    pki: Any, source: Any, proxied_gateway: Any, nginx_front: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoke, and the CA's DATAADGANG_CRL_PUBLISH_HOOK reloads nginx: new connections are refused at
    the edge (the gateway never sees them), with no manual reload."""
    issued = pki.ca.issue_client_certificate(login="hooked", kommune_kode="101")
    files = tmp_path / "hooked"
    files.mkdir()
    (files / "hooked.crt").write_bytes(issued.certificate_pem())
    (files / "hooked.key").write_bytes(issued.private_key_pem())
    source.add(Principal(user_id=9, login="hooked", kommune_kode="101", roles=frozenset({Role.USER}),
                         cert_fingerprint=issued.fingerprint, cert_serial=issued.serial, cert_not_after=issued.not_after))
    context = pki.client_context(None)
    context.load_cert_chain(files / "hooked.crt", files / "hooked.key")
    with proxied_gateway() as gateway:
        nginx = nginx_front(gateway)
        with httpx.Client(verify=context, timeout=5.0) as client:
            assert client.get(f"{nginx.url}/whoami").json()["login"] == "hooked"
        monkeypatch.setenv("DATAADGANG_CRL_PUBLISH_HOOK", nginx.reload_command)
        CertificateAuthority.open(pki.ca.ca_dir).revoke(issued.serial)  # the CA every revocation path ends in
        deadline = time.monotonic() + 10
        while True:  # the reload is asynchronous: nginx starts new workers with the new CRL
            with httpx.Client(verify=context, timeout=5.0) as client:  # a new connection each time
                response = client.get(f"{nginx.url}/whoami")
            if response.status_code == 401 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert response.status_code == 401 and response.json() == GENERIC
    assert gateway.refusals.seen == []  # refused by nginx's CRL check, not by the gateway


def test_a_failing_publish_hook_is_reported_and_the_crl_stays_published(
    pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    monkeypatch.setenv("DATAADGANG_CRL_PUBLISH_HOOK", "sh -c 'echo nginx: config test failed >&2; exit 3'")
    with pytest.raises(PublishHookError, match="exited with 3: nginx: config test failed"):
        CertificateAuthority.open(ca.ca_dir).publish_crl()
    assert ca.crl_path.exists()


def test_nginx_refuses_a_certificate_listed_in_the_crl(pki: Any, proxied_gateway: Any, nginx_front: Any) -> None:
    with proxied_gateway() as gateway, _client(pki, "revoked") as client:
        nginx = nginx_front(gateway)
        response = client.get(f"{nginx.url}/whoami")
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.seen == []


def test_revocation_in_the_store_is_refused_by_the_gateway_before_any_crl(
    pki: Any, proxied_gateway: Any, nginx_front: Any
) -> None:
    with proxied_gateway() as gateway, _client(pki, "alice") as client:
        nginx = nginx_front(gateway)
        assert client.get(f"{nginx.url}/whoami").status_code == 200
        gateway.source.revoke(pki.clients["alice"].fingerprint)
        response = client.get(f"{nginx.url}/whoami")
    assert response.status_code == 401
    assert response.json() == GENERIC
    assert gateway.refusals.reasons == ["revoked"]
