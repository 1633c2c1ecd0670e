"""A real OpenID Connect provider for the tests: the certified ``oidc-provider`` from npm
(installed by ``scripts/setup --test`` into tests/oidc/node_modules), run by node as a child
process; and the portal on its own port (client certificate optional) configured to use it."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import httpx

from admin.server import create_portal_app
from tests.support.servers import serve_in_thread
from gateway.identity.tls import uvicorn_config
from tests.support.missing import missing_part

OIDC_DIR = Path(__file__).resolve().parents[2] / "oidc"
CLIENT_ID, CLIENT_SECRET = "dataadgang-portal", "dataadgang-test-secret"


def require_provider() -> None:
    missing = [] if shutil.which("node") else ["node"]
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        missing.append("tests/oidc/node_modules/oidc-provider")
    if missing:
        message = f"OpenID Connect test provider missing (run scripts/setup --test): {', '.join(missing)}"
        missing_part(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def provider(port: int, redirect_uri: str, post_logout_uri: str) -> Iterator[str]:
    process = subprocess.Popen(
        ["node", "server.js", str(port), redirect_uri, post_logout_uri],
        cwd=OIDC_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        issuer = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the OpenID Connect provider did not start")
            time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclasses.dataclass(frozen=True)
class OIDCPortal:
    url: str  # the portal's own port, https
    issuer: str


@contextmanager
def oidc_portal(world) -> Iterator[OIDCPortal]:
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    settings = dataclasses.replace(
        world.settings, oidc_issuer=issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    )
    app = create_portal_app(settings, gateway=world.gateway)
    config = uvicorn_config(
        app, host="127.0.0.1", port=0, certfile=str(world.server_cert), keyfile=str(world.server_key),
        ca_file=str(world.ca_file), log_level="warning", lifespan="off",
    )
    with serve_in_thread(config) as running:
        callback, logged_out = f"{running.url}/admin/login/oidc/callback", f"{running.url}/admin/login"
        with provider(provider_port, callback, logged_out):
            yield OIDCPortal(url=running.url, issuer=issuer)


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields.setdefault(values["name"], values.get("value", ""))


def sign_in_at_provider(client: httpx.Client, start: httpx.Response, login: str, *, stop_at_callback: bool = False) -> httpx.Response:
    """Follow the provider's pages as a person would: its login form (any login, any password in
    its development mode), then its consent form, until it sends the browser back to the portal."""
    response = start
    for _ in range(20):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if stop_at_callback and "/login/oidc/callback" in target:
                return response
            response = client.get(target)
            continue
        if "<form" in response.text and "/interaction/" in str(response.url):
            form = _Form()
            form.feed(response.text)
            fields = dict(form.fields)
            if "login" in fields:
                fields.update(login=login, password="any")
            response = client.post(urljoin(str(response.url), form.action or ""), data=fields)
            continue
        return response
    raise AssertionError("the provider's flow did not finish")
