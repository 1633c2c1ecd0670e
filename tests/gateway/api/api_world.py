"""The API tests' world: a CA, DuckDB cube data for 101 and 147, a metadata store and
the gateway served by uvicorn over mTLS on a port the OS picks.

Building it costs a few seconds (data) plus ~0.5 s per RSA key, so the world is session-scoped
and the users tests only read through are made once, on first use. A test that changes a user
(revokes, suspends, lets a grant expire) makes its own with :meth:`World.new_user`.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from admin.certificates import issue_user_certificate
from admin.pki import CertificateAuthority
from gateway.app import Gateway, build_gateway, create_app
from gateway.data.demo import build_demo_data
from tests.support.servers import RunningServer, serve_in_thread
from gateway.identity.tls import uvicorn_config
from gateway.settings import Settings
from gateway.store.store import MetadataStore
from gateway.store.views import Actor

OPERATOR = Actor.operator("api-tests")
APPROVER = Actor.operator("api-tests-second-officer")  # four-eyes: individual grants need a second person
DOMAIN = "komb-fli-prod"
KOMMUNER = ("101", "147")
UNLOADED_KOMMUNE = "751"  # onboarded, but no cube data loaded for it
AREAS = ("ukraine", "borger", "voksenhandicap", "kl_databank")

Grants = Sequence[tuple[str, str]]  # (area id, level)

# The users tests only read through: name -> (kommune, grants).
POOL: dict[str, tuple[str, Grants]] = {
    # 101 with every area, person-level Voksenhandicap: what the demo's kl_pri has
    "full101": ("101", (("ukraine", "aggregated"), ("borger", "aggregated"), ("voksenhandicap", "individual"),
                        ("kl_databank", "aggregated"))),
    # 101 with Ukraine and aggregated Voksenhandicap only: no Borger, no KL Databank, no person level
    "some101": ("101", (("ukraine", "aggregated"), ("voksenhandicap", "aggregated"))),
    # 147 with every area at the aggregated level
    "full147": ("147", (("ukraine", "aggregated"), ("borger", "aggregated"), ("voksenhandicap", "aggregated"),
                        ("kl_databank", "aggregated"))),
    # 101 with individual grants: the databases' own numbers (no disclosure noise), person level visible
    "exact101": ("101", (("ukraine", "individual"), ("borger", "individual"), ("voksenhandicap", "individual"),
                         ("kl_databank", "aggregated"))),
    # 101 with no grants at all
    "none101": ("101", ()),
}


@dataclass(frozen=True)
class ApiUser:
    """A user with grants and an issued certificate (PEM pair, key encrypted with ``password``)."""

    name: str
    login: str
    kommune: str
    serial: int
    fingerprint: str
    cert_path: Path
    key_path: Path
    password: str

    def ssl_context(self, ca_file: Path) -> ssl.SSLContext:
        """What a BI tool does: trust our CA for the server, present the user's certificate."""
        context = ssl.create_default_context(cafile=str(ca_file))
        context.load_cert_chain(str(self.cert_path), str(self.key_path), password=self.password)
        return context


@dataclass
class World:
    settings: Settings
    ca: CertificateAuthority
    store: MetadataStore
    gateway: Gateway
    server: RunningServer
    server_cert: Path
    server_key: Path
    databases: tuple[str, ...]
    users_dir: Path
    _pool: dict[str, ApiUser] = field(default_factory=dict)
    _counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def ca_file(self) -> Path:
        return self.ca.ca_cert_path

    @property
    def url(self) -> str:
        return self.server.url

    def user(self, name: str) -> ApiUser:
        """A shared pool user (made on first use); never change it in a test."""
        if name not in self._pool:
            kommune, grants = POOL[name]
            self._pool[name] = self._make(name, kommune, grants)
        return self._pool[name]

    def new_user(self, kommune: str, grants: Grants, *, prefix: str = "u") -> ApiUser:
        """A user of the test's own, free to revoke, suspend or expire."""
        return self._make(f"{prefix}{next(self._counter)}_{kommune}", kommune, grants)

    def _make(self, name: str, kommune: str, grants: Grants) -> ApiUser:
        login = f"{DOMAIN}\\api_{name}"
        self.store.add_user(OPERATOR, kommune_kode=kommune, login=login)
        for area, level in grants:
            grant = self.store.add_grant(OPERATOR, login=login, area=area, valid_areas=AREAS, level=level, purpose="API tests")
            if grant.awaiting_approval:
                self.store.approve_grant(APPROVER, grant.id)
        issued = issue_user_certificate(self.store, self.ca, OPERATOR, login, self.users_dir / name, bundle_name=name)
        return ApiUser(
            name=name,
            login=issued.user.login,
            kommune=kommune,
            serial=issued.issued.serial,
            fingerprint=issued.issued.fingerprint,
            cert_path=issued.bundle.certificate_path,
            key_path=issued.bundle.key_path,
            password=issued.password,
        )

    def oracle(self, database: str, sql: str) -> float:
        """A number read straight from the database's own file, past the gateway's query path."""
        with self.gateway.registry.connect(database) as connection:
            return float(connection.execute(sa.text(sql)).scalar_one())

    def client(self, user: ApiUser, *, url: str | None = None, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=url or self.url, verify=user.ssl_context(self.ca_file), timeout=30.0, **kw)

    @contextlib.contextmanager
    def serve(self, app: Any) -> Iterator[RunningServer]:
        """Another app (own limits, a broken audit log) behind the same CA and server certificate."""
        config = uvicorn_config(
            app,
            host="127.0.0.1",
            port=0,
            certfile=str(self.server_cert),
            keyfile=str(self.server_key),
            ca_file=str(self.ca_file),
            log_level="warning",
            lifespan="off",
        )
        with serve_in_thread(config) as running:
            yield running


def shared_cube_data(shared_root: Path) -> Path:
    """Cube databases for 101 and 147 (+ benchmarks), built once for all test workers.

    The gateway only reads them (DuckDB in read-only mode), so every worker's world can point
    its data directory here; an exclusive lock makes the first worker build and the rest wait.
    """
    home = shared_root / "api-cube-data"
    done = home / "built"
    with open(shared_root / "api-cube-data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            settings = Settings.from_env({"DATAADGANG_HOME": str(home)})
            names = build_demo_data(settings, kommuner=list(KOMMUNER), progress=False, scale=0.02, workers=2)
            done.write_text("\n".join(names), encoding="utf-8")
    return home / "data"


@contextlib.contextmanager
def build_world(root: Path, data_dir: Path) -> Iterator[World]:
    """A world in ``root`` (its own CA, metadata store and server) over the shared ``data_dir``."""
    home = root
    settings = Settings.from_env({"DATAADGANG_HOME": str(home / "home")})
    settings.home.mkdir(parents=True)
    settings.data_dir.symlink_to(data_dir, target_is_directory=True)
    ca = CertificateAuthority.create(settings.ca_dir)
    server_dir = home / "server"
    ca.issue_server_certificate(["127.0.0.1", "localhost"], out_dir=server_dir)
    databases = tuple(sorted((data_dir.parent / "built").read_text(encoding="utf-8").split("\n")))
    store = MetadataStore.from_settings(settings)
    store.migrate()
    for kode in (*KOMMUNER, UNLOADED_KOMMUNE):
        store.onboard_kommune(OPERATOR, kode)
    gateway = build_gateway(settings, store=store)
    app = create_app(settings, gateway=gateway)
    config = uvicorn_config(
        app,
        host="127.0.0.1",
        port=0,
        certfile=str(server_dir / "server.crt"),
        keyfile=str(server_dir / "server.key"),
        ca_file=str(ca.ca_cert_path),
        log_level="warning",
    )
    with serve_in_thread(config) as server:
        yield World(
            settings=settings,
            ca=ca,
            store=store,
            gateway=gateway,
            server=server,
            server_cert=server_dir / "server.crt",
            server_key=server_dir / "server.key",
            databases=databases,
            users_dir=home / "users",
        )
    store.close()


def post(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    """POST a GraphQL query the way every client does."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return client.post("/graphql", content=json.dumps(payload), headers={"content-type": "application/json"})


def gql_data(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``data`` of a query that must succeed (status 200, no errors)."""
    response = post(client, query, variables)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def audit_events_for(world: World, request_id: str) -> list[Any]:
    """The audit records carrying ``request_id`` (each served request must have exactly one)."""
    return [record for record in world.gateway.audit.query() if record.event.request_id == request_id]
