"""The portal tests' world: the API tests' world (CA, cube data, store, mTLS server), plus the
gateway served again with the portal mounted at /admin, and people with portal roles.

A :class:`PortalBrowser` is what a browser does without JavaScript: present a certificate,
keep cookies, submit forms with the CSRF token they carry.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from admin.certificates import issue_user_certificate
from admin.server import create_server_app
from gateway.principal import Role
from gateway.store.views import UserView
from tests.gateway.api.api_world import OPERATOR, ApiUser, World

DOMAIN = "komb-fli-prod"
_counter = itertools.count()


@dataclass(frozen=True)
class Person:
    """A user with roles and a certificate; ``view`` as the store had it when made."""

    cert: ApiUser
    view: UserView
    p12_path: Path
    p12_password: str

    @property
    def login(self) -> str:
        return self.view.login


def make_person(world: World, kommune: str, *roles: Role, name: str = "p") -> Person:
    login = f"{DOMAIN}\\k{kommune}_{name}{next(_counter)}"
    view = world.store.add_user(OPERATOR, kommune_kode=kommune, login=login, roles=frozenset(roles or {Role.USER}))
    stem = login.split("\\")[1]
    issued = issue_user_certificate(world.store, world.ca, OPERATOR, login, world.users_dir / stem, bundle_name=stem)
    cert = ApiUser(
        name=stem, login=view.login, kommune=kommune, serial=issued.issued.serial, fingerprint=issued.issued.fingerprint,
        cert_path=issued.bundle.certificate_path, key_path=issued.bundle.key_path, password=issued.password,
    )
    return Person(cert=cert, view=view, p12_path=issued.bundle.pkcs12_path, p12_password=issued.password)


class _Forms(HTMLParser):
    """Every form's action and its CSRF token, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "method": values.get("method", "get")})
        elif tag == "input" and self.forms and values.get("name") == "csrf_token":
            self.forms[-1]["csrf_token"] = values.get("value", "")


def forms_of(html: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def csrf_of(html: str) -> str:
    for form in forms_of(html):
        if form.get("csrf_token"):
            return form["csrf_token"]
    raise AssertionError("no CSRF token on the page")


class PortalBrowser:
    def __init__(self, world: World, url: str, person: Person | None) -> None:
        self.world = world
        self.person = person
        verify = person.cert.ssl_context(world.ca_file) if person else world.ca_file
        self.client = httpx.Client(base_url=url, verify=verify, timeout=60.0)  # type: ignore[arg-type]

    def login(self) -> PortalBrowser:
        page = self.client.get("/admin/login")
        assert page.status_code == 200, page.text
        response = self.client.post("/admin/login/certifikat", data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 303, response.text
        return self

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def csrf(self) -> str:
        return csrf_of(self.client.get("/admin/").text)

    def submit(self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = None) -> httpx.Response:
        fields = dict(data or {})
        fields["csrf_token"] = self.csrf() if csrf is None else csrf
        return self.client.post(path, data=fields)

    def close(self) -> None:
        self.client.close()


@contextmanager
def portal_server(world: World) -> Iterator[str]:
    """The gateway with the portal at /admin, on its own port over the world's CA."""
    app = create_server_app(world.settings, gateway=world.gateway)
    with world.serve(app) as running:
        yield running.url


def detail_id(response: httpx.Response) -> int:
    """The user id a redirect to /admin/brugere/<id> names."""
    found = re.search(r"/admin/brugere/(\d+)$", response.headers["location"])
    assert found, response.headers.get("location")
    return int(found.group(1))
