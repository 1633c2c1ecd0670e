"""The gateway end to end with everything on PostgreSQL: the metadata store (users, certificates,
grants, the audit chain) and the cube databases (one schema per loaded version), over real mTLS.

The module gets a PostgreSQL database of its own: the loader names its version schemas after the
database (``flis_ukraine_101_v0001``), so two test runs loading the same kommune into one shared
database would overwrite (and prune) each other's schemas. The database, and with it the metadata
schema and every version schema, is dropped at teardown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_world import APPROVER, AREAS, DOMAIN, OPERATOR, ApiUser, post

from admin.certificates import issue_user_certificate
from admin.pki import CertificateAuthority
from gateway.app import Gateway, build_gateway, create_app
from gateway.data.loader import LoadRequest, load_database
from gateway.data.synth import GenerateOptions, generate
from tests.support.servers import RunningServer, serve_in_thread
from gateway.identity.tls import uvicorn_config
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings
from gateway.store.store import MetadataStore

pytestmark = pytest.mark.postgres

KOMMUNER = ("101", "147")
OWN, OTHER, MISSING = "FLIS Ukraine-101", "FLIS Ukraine-147", "FLIS Ukraine-999"
BENCHMARK = "FLIS Ukraine Benchmark"  # 101 and 147 together
AS_OF = dt.date(2023, 3, 31)
BY_SEX = (
    'query($n: String!) { execute(catalog: $n, query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"],'
    ' rows: [{level: "[Køn].[Køn].[Køn]"}]}) { catalog dataAsOf cellSet { cells { value } } } }'
)
PLACEHOLDER = "\u0000DATABASE\u0000"


@dataclass(frozen=True)
class PgWorld:
    settings: Settings
    ca: CertificateAuthority
    store: MetadataStore
    gateway: Gateway
    server: RunningServer
    cube_url: str  # the module's own PostgreSQL database, holding the version schemas
    metadata_schema: str
    users_dir: Path

    def new_user(self, name: str, kommune: str, grants: tuple[tuple[str, str], ...]) -> ApiUser:
        login = f"{DOMAIN}\\pg_{name}"
        self.store.add_user(OPERATOR, kommune_kode=kommune, login=login)
        for area, level in grants:
            grant = self.store.add_grant(OPERATOR, login=login, area=area, valid_areas=AREAS, level=level, purpose="PG tests")
            if grant.awaiting_approval:  # four-eyes: an individual-level grant counts once a second person approves
                self.store.approve_grant(APPROVER, grant.id)
        issued = issue_user_certificate(self.store, self.ca, OPERATOR, login, self.users_dir / name, bundle_name=name)
        return ApiUser(
            name=name, login=login, kommune=kommune, serial=issued.issued.serial, fingerprint=issued.issued.fingerprint,
            cert_path=issued.bundle.certificate_path, key_path=issued.bundle.key_path, password=issued.password,
        )

    def client(self, user: ApiUser) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, verify=user.ssl_context(self.ca.ca_cert_path), timeout=30.0)

    def direct_sum(self, database: str, sql: str) -> float:
        """A number read with plain SQL on the version's own schema, past the gateway's engine."""
        entry = self.gateway.registry.get(database)
        assert entry is not None and entry.schema is not None
        engine = sa.create_engine(self.cube_url)
        try:
            with engine.connect() as connection:
                return float(connection.execute(sa.text(sql.format(schema=f'"{entry.schema}"'))).scalar_one())
        finally:
            engine.dispose()


@contextlib.contextmanager
def _own_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the test server; dropped (connections and all) on exit."""
    name = f"t_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _load_cubes(settings: Settings, scratch: Path, target: str) -> list[str]:
    """Ukraine for 101, 147 and their benchmark, generated small and loaded into ``target`` (one schema per version)."""
    options = GenerateOptions(seed=2022, as_of=AS_OF, scale=0.02, kommuner=KOMMUNER)
    registry = DatabaseRegistry.from_settings(settings)
    try:
        loaded = [
            load_database(LoadRequest(area, kode, directory, target=target), schema_dir=settings.schema_dir, registry=registry)
            for area, kode, directory in generate(scratch, options, areas=("ukraine",))
        ]
    finally:
        registry.close()
    return [result.database.name for result in loaded]


@pytest.fixture(scope="module")
def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgWorld]:
    root = tmp_path_factory.mktemp("api-pg")
    with _own_database(postgres_url) as cube_url:
        schema = f"meta_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(cube_url)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
        metadata_url = sa.make_url(cube_url).update_query_dict({"options": f"-csearch_path={schema}"})
        settings = Settings.from_env({
            "DATAADGANG_HOME": str(root / "home"),
            "DATAADGANG_METADATA_URL": metadata_url.render_as_string(hide_password=False),
        })
        settings.home.mkdir(parents=True)
        assert sorted(_load_cubes(settings, root / "sources", cube_url)) == [BENCHMARK, OWN, OTHER]
        ca = CertificateAuthority.create(settings.ca_dir)
        server_dir = root / "server"
        ca.issue_server_certificate(["127.0.0.1", "localhost"], out_dir=server_dir)
        store = MetadataStore.from_settings(settings)
        store.migrate()
        for kode in KOMMUNER:
            store.onboard_kommune(OPERATOR, kode)
        gateway = build_gateway(settings, store=store)
        config = uvicorn_config(
            create_app(settings, gateway=gateway), host="127.0.0.1", port=0, certfile=str(server_dir / "server.crt"),
            keyfile=str(server_dir / "server.key"), ca_file=str(ca.ca_cert_path), log_level="warning",
        )
        try:
            with serve_in_thread(config) as server:
                yield PgWorld(settings, ca, store, gateway, server, cube_url, schema, root / "users")
        finally:
            gateway.registry.close()
            store.close()


@pytest.fixture(scope="module")
def analyst(pg: PgWorld) -> ApiUser:
    """101 with Ukraine at the individual level (exact answers): read by the tests that change nothing."""
    return pg.new_user("analyst", "101", (("ukraine", "individual"),))


def _errors(response: Any) -> list[dict[str, Any]] | None:
    return response.json().get("errors")  # type: ignore[no-any-return]


def test_both_stores_really_are_postgresql(pg: PgWorld) -> None:
    assert pg.store.database.dialect == "postgresql"
    for name in (OWN, OTHER):
        entry = pg.gateway.registry.get(name)
        assert entry is not None and entry.url == pg.cube_url and (entry.schema or "").endswith(f"_flis_ukraine_{name[-3:]}_v0001")
    engine = sa.create_engine(pg.cube_url)
    try:
        with engine.connect() as connection:
            tables = set(connection.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": pg.metadata_schema}
            ).scalars())
    finally:
        engine.dispose()
    assert {"users", "certificates", "grants", "audit_events"} <= tables


def test_catalogs_on_postgresql_list_the_own_granted_database_and_the_benchmark_with_data_as_of(pg: PgWorld, analyst: ApiUser) -> None:
    with pg.client(analyst) as client:
        response = post(client, "{ catalogs { name isBenchmark kommune { kode } dataAsOf } }")
    assert response.status_code == 200 and _errors(response) is None, response.text
    assert response.json()["data"]["catalogs"] == [
        {"name": OWN, "isBenchmark": False, "kommune": {"kode": "101"}, "dataAsOf": AS_OF.isoformat()},
        {"name": BENCHMARK, "isBenchmark": True, "kommune": None, "dataAsOf": AS_OF.isoformat()},
    ]


def test_execute_on_postgresql_totals_equal_a_direct_sum_on_the_version_schema(pg: PgWorld, analyst: ApiUser) -> None:
    with pg.client(analyst) as client:
        response = post(client, BY_SEX, {"n": OWN})
    assert response.status_code == 200 and _errors(response) is None, response.text
    result = response.json()["data"]["execute"]
    assert (result["catalog"], result["dataAsOf"]) == (OWN, AS_OF.isoformat())
    cells = [cell["value"] for cell in result["cellSet"]["cells"]]
    assert len(cells) == 2 and all(value > 0 for value in cells)  # Kvinde, Mand
    total = pg.direct_sum(OWN, "SELECT sum(indrejst) FROM {schema}.haendelser")
    assert sum(cells) == total > 0
    women = pg.direct_sum(OWN, "SELECT sum(indrejst) FROM {schema}.haendelser WHERE koen = 'K'")
    assert cells[0] == women


def test_execute_on_postgresql_is_protected_for_an_aggregated_grant(pg: PgWorld) -> None:
    """The record keys are hashed by PostgreSQL itself: near the truth, never exact, the same every time."""
    user = pg.new_user("aggregated", "101", (("ukraine", "aggregated"),))
    answers = []
    for _ in range(2):
        with pg.client(user) as client:
            response = post(client, BY_SEX, {"n": OWN})
        assert response.status_code == 200 and _errors(response) is None, response.text
        answers.append([cell["value"] for cell in response.json()["data"]["execute"]["cellSet"]["cells"]])
    assert answers[0] == answers[1]
    women = pg.direct_sum(OWN, "SELECT sum(indrejst) FROM {schema}.haendelser WHERE koen = 'K'")
    men = pg.direct_sum(OWN, "SELECT sum(indrejst) FROM {schema}.haendelser WHERE koen = 'M'")
    assert abs(answers[0][0] - women) <= 2 and abs(answers[0][1] - men) <= 2



def test_the_benchmark_on_postgresql_is_protected_even_for_an_individual_grant(pg: PgWorld, analyst: ApiUser) -> None:
    """Other kommuner's citizens: near the sum of the kommune databases, no count below 5."""
    with pg.client(analyst) as client:
        response = post(client, BY_SEX, {"n": BENCHMARK})
    assert response.status_code == 200 and _errors(response) is None, response.text
    cells = [cell["value"] for cell in response.json()["data"]["execute"]["cellSet"]["cells"]]
    for value, koen in zip(cells, "KM"):
        true = sum(pg.direct_sum(name, f"SELECT sum(indrejst) FROM {{schema}}.haendelser WHERE koen = '{koen}'")
                   for name in (OWN, OTHER))
        assert true == pg.direct_sum(BENCHMARK, f"SELECT sum(indrejst) FROM {{schema}}.haendelser WHERE koen = '{koen}'")
        assert value >= 5 and abs(value - true) <= 2

def _shape(response: Any, name: str) -> tuple[int, str, bytes]:
    escaped = json.dumps(name, ensure_ascii=False)[1:-1]
    body = response.content.decode()
    assert escaped in body, body
    return response.status_code, response.headers["content-type"], body.replace(escaped, PLACEHOLDER).encode()


def test_another_kommunes_and_a_missing_database_get_byte_identical_denials(pg: PgWorld, analyst: ApiUser) -> None:
    with pg.client(analyst) as client:
        other, missing = post(client, BY_SEX, {"n": OTHER}), post(client, BY_SEX, {"n": MISSING})
        catalog_other = post(client, 'query($n: String!) { catalog(name: $n) { name } }', {"n": OTHER})
        catalog_missing = post(client, 'query($n: String!) { catalog(name: $n) { name } }', {"n": MISSING})
    assert _shape(other, OTHER) == _shape(missing, MISSING)
    assert _shape(catalog_other, OTHER) == _shape(catalog_missing, MISSING)
    (error,) = other.json()["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED" and other.json()["data"] is None
    assert error["message"] == (
        f"Either the user, '{analyst.login}', does not have access to the '{OTHER}' database, or the database does not exist."
    )


def test_a_revoked_grant_stops_on_the_next_request_on_postgresql(pg: PgWorld) -> None:
    user = pg.new_user("revoked_grant", "101", (("ukraine", "aggregated"),))
    (grant,) = pg.store.list_grants(OPERATOR, login=user.login)
    with pg.client(user) as client:
        assert _errors(post(client, BY_SEX, {"n": OWN})) is None
        pg.store.revoke_grant(OPERATOR, grant.id)
        denied = post(client, BY_SEX, {"n": OWN})
        assert [e["extensions"]["code"] for e in _errors(denied) or []] == ["ACCESS_DENIED"]
        assert post(client, "{ catalogs { name } }").json()["data"] == {"catalogs": []}


def test_each_request_has_exactly_one_audit_event_on_postgresql_and_the_chain_verifies(pg: PgWorld) -> None:
    user = pg.new_user("audited", "147", (("ukraine", "aggregated"),))
    queries = [
        (BY_SEX, {"n": "FLIS Ukraine-147"}, "served"),
        (BY_SEX, {"n": OWN}, "denied"),  # 101 is another kommune's for this user
        ("{ catalogs { name } }", None, "served"),
        ("{ me { login } }", None, "served"),
    ]
    with pg.client(user) as client:
        sent = [(post(client, query, variables).headers["x-request-id"], outcome) for query, variables, outcome in queries]
    records = pg.gateway.audit.query(login=user.login)
    by_request: dict[str, list[Any]] = {}
    for record in records:
        by_request.setdefault(record.event.request_id, []).append(record.event)
    assert sorted(by_request) == sorted(request_id for request_id, _ in sent)
    for request_id, outcome in sent:
        (event,) = by_request[request_id]
        assert event.outcome == outcome and event.login == user.login and event.kommune_kode == "147"
    check = pg.gateway.audit.verify()
    assert check.ok, check.problem
