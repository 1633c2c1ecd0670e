"""Tenant isolation through the download door, as a property: whatever the user, grants and
database, ``POST /export`` and ``/datapakker`` serve exactly what the access rules of DOMAIN.md
allow (numbers checked against the DuckDB file), deny with the one uniform answer, byte for
byte, and write exactly one audit event per request."""

from __future__ import annotations

import csv
import io
import json

import pytest
from api_world import AREAS, OPERATOR, ApiUser, World, audit_events_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# (name, area or None when there is no such database, kommune or None for a benchmark, cube, measure, oracle SQL)
DATABASES = (
    ("FLIS Ukraine-101", "ukraine", "101", "Ukraine Statistik", "[Measures].[Indrejste]", "select sum(indrejst) from haendelser"),
    ("FLIS Ukraine-147", "ukraine", "147", "Ukraine Statistik", "[Measures].[Indrejste]", "select sum(indrejst) from haendelser"),
    ("FLIS Borger-101", "borger", "101", "Borger", "[Measures].[Antal fødte borgere]", "select sum(foedte) from befolkning"),
    ("FLIS Borger-147", "borger", "147", "Borger", "[Measures].[Antal fødte borgere]", "select sum(foedte) from befolkning"),
    ("FLIS Borger Benchmark", "borger", None, "Borger Benchmark", "[Measures].[Antal fødte borgere]", "select sum(foedte) from befolkning"),
    ("FLIS KL Databank", "kl_databank", None, "KL Databank", "[Measures].[Tæller]", "select sum(taeller) from noegletal_vaerdier"),
    ("FLIS Ukraine-999", None, None, "Ukraine Statistik", "[Measures].[Indrejste]", ""),
    ("FLIS Ukraine-751", "ukraine", "751", "Ukraine Statistik", "[Measures].[Indrejste]", ""),  # a real kommune, not loaded
)
GRANT_CHOICES = tuple((area, "aggregated") for area in AREAS)


def _may_read(user: ApiUser, granted: set[str], area: str | None, kommune: str | None) -> bool:
    return area is not None and area in granted and (kommune is None or kommune == user.kommune)


def _denial(user: ApiUser, name: str) -> bytes:
    message = f"Either the user, '{user.login}', does not have access to the '{name}' database, or the database does not exist."
    body = {"errors": [{"message": message, "extensions": {"code": "ACCESS_DENIED"}}]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def door_users(world: World) -> tuple[ApiUser, ...]:
    return (world.new_user("101", (), prefix="dliso"), world.new_user("147", (), prefix="dliso"))


@pytest.fixture(scope="module")
def door_totals(world: World) -> dict[str, float]:
    return {name: world.oracle(name, sql) for name, area, _, _, _, sql in DATABASES
            if sql and world.gateway.registry.get(name) is not None}


def _set_grants(world: World, user: ApiUser, grants: set[tuple[str, str]]) -> None:
    for grant in world.store.list_grants(OPERATOR, login=user.login, include_revoked=False):
        world.store.revoke_grant(OPERATOR, grant.id)
    for area, level in sorted(grants):
        world.store.add_grant(OPERATOR, login=user.login, area=area, valid_areas=AREAS, level=level, purpose="isolation")


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    user_index=st.integers(min_value=0, max_value=1),
    grants=st.sets(st.sampled_from(GRANT_CHOICES), max_size=3),
    db=st.sampled_from(DATABASES),
)
def test_downloads_serve_only_what_the_rules_allow(
    world: World, door_users: tuple[ApiUser, ...], door_totals: dict[str, float],
    user_index: int, grants: set[tuple[str, str]], db: tuple[str, str | None, str | None, str, str, str],
) -> None:
    name, area, kommune, cube, measure, _ = db
    user = door_users[user_index]
    _set_grants(world, user, grants)
    granted = {a for a, _ in grants}
    with world.client(user) as client:
        exported = client.post("/export", content=json.dumps({"catalog": name, "query": {"cube": cube, "measures": [measure]}}),
                               headers={"content-type": "application/json"})
        listed = client.get("/datapakker")
        package = client.head("/datapakker/kl_databank")
    for response in (exported, listed, package):
        assert len(audit_events_for(world, response.headers["x-request-id"])) == 1
    kl_allowed = "kl_databank" in granted
    assert [p["id"] for p in listed.json()["packages"]] == (["kl_databank"] if kl_allowed else [])
    assert package.status_code == (200 if kl_allowed else 404)
    if not _may_read(user, granted, area, kommune):
        assert exported.status_code == 404
        assert exported.content == _denial(user, name)
        return
    assert exported.status_code == 200, exported.text
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 2 and len(rows[1]) == 1
    # this database's own number; cubes under disclosure control (all but KL Databank) carry
    # cell-key noise of at most max_noise (2) on every cell, grand totals included
    noise = 0 if area == "kl_databank" else 2
    assert float(rows[1][0].replace(",", ".")) == pytest.approx(door_totals[name], abs=noise)
