"""Tenant isolation as a property: whatever the user, grants, database and query, the gateway answers
exactly what the access rules allow, with numbers from that database only, and a denied database
is indistinguishable from one that does not exist.

The oracle is written from DOMAIN.md, not from gateway.access: a database is readable when it
exists, is the user's own kommune's or a benchmark, and the user holds a grant for its area.
The numbers are checked against the DuckDB file itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from api_world import APPROVER, AREAS, OPERATOR, ApiUser, World, post
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@dataclass(frozen=True)
class Db:
    name: str
    area: str | None  # None: no such database
    kommune: str | None  # None: a benchmark (or no such database)
    cube: str
    measure: str
    oracle_sql: str  # the grand total of ``measure``, read from the DuckDB file


def _ukraine(kode: str) -> Db:
    return Db(f"FLIS Ukraine-{kode}", "ukraine", kode, "Ukraine Statistik", "[Measures].[Indrejste]", "select sum(indrejst) from haendelser")


def _borger(kode: str) -> Db:
    return Db(f"FLIS Borger-{kode}", "borger", kode, "Borger", "[Measures].[Antal fødte borgere]", "select sum(foedte) from befolkning")


def _vh(kode: str) -> Db:
    return Db(
        f"FLIS Voksne Handicappede-{kode}",
        "voksenhandicap",
        kode,
        "Voksne Handicappede",
        "[Measures].[Ydelsesmodtagere]",
        "select count(distinct person_ydelse) from forloeb_maaned",
    )


DATABASES: tuple[Db, ...] = (
    *(make(kode) for kode in ("101", "147") for make in (_ukraine, _borger, _vh)),
    Db("FLIS Borger Benchmark", "borger", None, "Borger Benchmark", "[Measures].[Antal fødte borgere]", "select sum(foedte) from befolkning"),
    Db(
        "FLIS Voksne Handicappede Benchmark",
        "voksenhandicap",
        None,
        "Voksne Handicappede Benchmark",
        "[Measures].[Ydelsesmodtagere]",
        "select count(distinct person_ydelse) from forloeb_maaned",
    ),
    Db("FLIS Ukraine Benchmark", "ukraine", None, "Ukraine Statistik", "[Measures].[Indrejste]",
       "select sum(indrejst) from haendelser"),
    Db("FLIS KL Databank", "kl_databank", None, "KL Databank", "[Measures].[Tæller]", "select sum(taeller) from noegletal_vaerdier"),
    Db("FLIS Ukraine-999", None, None, "Ukraine Statistik", "[Measures].[Indrejste]", ""),
    Db("FLIS Nothing", None, None, "Ukraine Statistik", "[Measures].[Indrejste]", ""),
    Db("FLIS Ukraine-751", "ukraine", "751", "Ukraine Statistik", "[Measures].[Indrejste]", ""),  # real kommune, not ours
)
MAX_NOISE = 2  # the largest disclosure noise of these cubes (schema/*.yaml, disclosure.max_noise)
GRANT_CHOICES = tuple((area, level) for area in AREAS for level in ("aggregated", "individual"))

CATALOGS = "{ catalogs { name } }"
EXECUTE = "query($n: String!, $q: CubeQueryInput!) { execute(catalog: $n, query: $q) { catalog cellSet { cells { value } } } }"
CATALOG = "query($n: String!) { catalog(name: $n) { name cubes { name } } }"


def may_read(user: ApiUser, granted: set[str], db: Db) -> bool:
    """The access rules of DOMAIN.md, independently of gateway.access."""
    if db.area is None or db.area not in granted:
        return False
    return db.kommune is None or db.kommune == user.kommune


def denial_bytes(user: ApiUser, name: str, field: str) -> bytes:
    """The one uniform denial, byte for byte as the gateway serialises it."""
    body = {
        "data": None,
        "errors": [
            {
                "message": f"Either the user, '{user.login}', does not have access to the '{name}' database, "
                "or the database does not exist.",
                "extensions": {"code": "ACCESS_DENIED"},
                "locations": [{"line": 1, "column": (EXECUTE if field == "execute" else CATALOG).index(field) + 1}],
                "path": [field],
            }
        ],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def isolation_users(world: World) -> tuple[ApiUser, ...]:
    """Users of this module only: their grants are rewritten by every example."""
    return (
        world.new_user("101", (), prefix="iso"),
        world.new_user("101", (), prefix="iso"),
        world.new_user("147", (), prefix="iso"),
    )


@pytest.fixture(scope="module")
def totals(world: World) -> dict[str, float]:
    """Each loaded database's grand total, read straight from its DuckDB file by plain SQL."""
    found: dict[str, float] = {}
    for db in DATABASES:
        if db.oracle_sql and world.gateway.registry.get(db.name) is not None:
            found[db.name] = world.oracle(db.name, db.oracle_sql)
    return found


def _set_grants(world: World, user: ApiUser, grants: set[tuple[str, str]]) -> None:
    for grant in world.store.list_grants(OPERATOR, login=user.login, include_revoked=False):
        world.store.revoke_grant(OPERATOR, grant.id)
    for area, level in sorted(grants):
        grant = world.store.add_grant(OPERATOR, login=user.login, area=area, valid_areas=AREAS, level=level, purpose="isolation")
        if grant.awaiting_approval:  # four-eyes: a person-level grant counts once a second officer approved it
            world.store.approve_grant(APPROVER, grant.id)


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    user_index=st.integers(min_value=0, max_value=2),
    grants=st.sets(st.sampled_from(GRANT_CHOICES), max_size=4),
    db=st.sampled_from(DATABASES),
    query_cube=st.sampled_from(("own", "Ukraine Statistik", "Borger")),
    operation=st.sampled_from(("execute", "catalog")),
)
def test_no_user_ever_reads_a_database_the_rules_do_not_allow(
    world: World,
    isolation_users: tuple[ApiUser, ...],
    totals: dict[str, float],
    user_index: int,
    grants: set[tuple[str, str]],
    db: Db,
    query_cube: str,
    operation: str,
) -> None:
    user = isolation_users[user_index]
    _set_grants(world, user, grants)
    granted = {area for area, _ in grants}
    allowed = may_read(user, granted, db)
    cube = db.cube if query_cube == "own" else query_cube
    with world.client(user) as client:
        listed = {item["name"] for item in post(client, CATALOGS).json()["data"]["catalogs"]}
        if operation == "execute":
            query = {"cube": cube, "measures": [db.measure]}
            response = post(client, EXECUTE, {"n": db.name, "q": query})
        else:
            response = post(client, CATALOG, {"n": db.name})
    assert listed == {d.name for d in DATABASES if may_read(user, granted, d)}
    assert response.status_code == 200
    if not allowed:
        assert response.content == denial_bytes(user, db.name, operation)
        return
    body = response.json()
    if operation == "catalog":
        assert body["data"]["catalog"]["name"] == db.name
        return
    if cube != db.cube:  # a cube of another area, named inside a readable database: an ordinary error
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        return
    assert body["data"]["execute"]["catalog"] == db.name
    (cell,) = body["data"]["execute"]["cellSet"]["cells"]
    # this database's own number, never a neighbour's: exact with an individual grant at home
    # (and for published figures), else within the disclosure noise
    exact = db.area == "kl_databank" or (db.kommune is not None and (db.area, "individual") in grants)
    if exact:
        assert cell["value"] == pytest.approx(totals[db.name])
    else:
        assert abs(cell["value"] - totals[db.name]) <= MAX_NOISE


def test_kommune_databases_hold_different_numbers_so_a_leak_would_show(totals: dict[str, float]) -> None:
    # further apart than the noise of both, so a neighbour's number could never pass as ours
    assert abs(totals["FLIS Ukraine-101"] - totals["FLIS Ukraine-147"]) > 2 * MAX_NOISE
    # the Ukraine benchmark holds the loaded kommuner's events: their sum, unlike either of them
    assert totals["FLIS Ukraine Benchmark"] == totals["FLIS Ukraine-101"] + totals["FLIS Ukraine-147"]
    assert abs(totals["FLIS Borger-101"] - totals["FLIS Borger-147"]) > 2 * MAX_NOISE
    assert totals["FLIS Voksne Handicappede-101"] != totals["FLIS Voksne Handicappede-147"]
