"""Uniform denial: forbidden and missing databases look exactly alike, apart from the name asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_world import UNLOADED_KOMMUNE, World, audit_events_for, post

OWN = "FLIS Ukraine-101"
DENIED = (
    "FLIS Ukraine-147",  # another kommune's database
    "FLIS Voksne Handicappede-147",  # another kommune's, in an area the user holds
    "FLIS Ukraine-999",  # no kommune 999: does not exist
    "FLIS Nothing",  # no such area
    "FLIS Borger-101",  # own kommune, but no grant for Borger
    "FLIS KL Databank",  # a benchmark without grant
    "FLIS Borger Benchmark",  # a benchmark of an area without grant
    "FLIS Ukraine-101 ",  # trailing space: not a name
)
PLACEHOLDER = "\u0000DATABASE\u0000"

CATALOG = "query($n: String!) { catalog(name: $n) { name cubes { name } } }"
EXECUTE = (
    "query($n: String!) { execute(catalog: $n, query: {cube: \"Ukraine Statistik\", measures: [\"[Measures].[Indrejste]\"]})"
    " { cellSet { cells { value } } } }"
)


def _shape(response: Any, name: str) -> tuple[int, str, bytes]:
    """Status, content type and the body with the asked-for name (JSON-escaped) replaced by a placeholder."""
    escaped = json.dumps(name, ensure_ascii=False)[1:-1]
    body = response.content.decode()
    assert escaped in body, body
    return response.status_code, response.headers["content-type"], body.replace(escaped, PLACEHOLDER).encode()


@pytest.mark.parametrize("query", [CATALOG, EXECUTE], ids=["catalog", "execute"])
def test_denied_and_missing_databases_get_byte_identical_answers(world: World, query: str) -> None:
    user = world.user("some101")  # grants: Ukraine and Voksenhandicap (aggregated)
    with world.client(user) as client:
        answers = {name: post(client, query, {"n": name}) for name in DENIED}
    shapes = {name: _shape(response, name) for name, response in answers.items()}
    assert len(set(shapes.values())) == 1, shapes
    status, content_type, _ = next(iter(shapes.values()))
    assert status == 200 and content_type == "application/json"
    for name, response in answers.items():
        body = response.json()
        assert body["data"] is None
        assert body["errors"] == [
            {
                "message": f"Either the user, '{user.login}', does not have access to the '{name}' database, "
                "or the database does not exist.",
                "extensions": {"code": "ACCESS_DENIED"},
                "locations": [{"line": 1, "column": 22}],
                "path": [body["errors"][0]["path"][0]],
            }
        ]


def test_the_own_database_answers_where_the_others_are_denied(world: World) -> None:
    with world.client(world.user("some101")) as client:
        catalog = post(client, CATALOG, {"n": OWN}).json()
        execute = post(client, EXECUTE, {"n": OWN}).json()
    assert catalog["data"]["catalog"]["name"] == OWN
    assert "errors" not in execute and execute["data"]["execute"]["cellSet"]["cells"]


def test_denials_are_audited_with_the_reason_the_client_never_sees(world: World) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        other = post(client, EXECUTE, {"n": "FLIS Ukraine-147"})
        missing = post(client, EXECUTE, {"n": "FLIS Ukraine-999"})
        ungranted = post(client, CATALOG, {"n": "FLIS Borger-101"})
    reasons = {}
    for label, response in (("other", other), ("missing", missing), ("ungranted", ungranted)):
        (record,) = audit_events_for(world, response.headers["x-request-id"])
        assert record.event.outcome == "denied" and record.event.login == user.login
        assert record.event.cells == 0
        reasons[label] = record.event.reason or ""
        assert reasons[label] not in response.text
    assert "belongs to kommune 147" in reasons["other"]
    assert "no such database" in reasons["missing"]
    assert "no active grant for area 'borger'" in reasons["ungranted"]


def test_a_denied_database_among_readable_ones_yields_no_data_from_it(world: World) -> None:
    """Two fields in one request: the readable one answers, the denied one is null with the denial."""
    query = (
        '{ own: catalog(name: "FLIS Ukraine-101") { name } other: catalog(name: "FLIS Ukraine-147") { name } }'
    )
    with world.client(world.user("some101")) as client:
        body = post(client, query).json()
    assert body["data"] is None or body["data"].get("other") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["ACCESS_DENIED"]
    assert "FLIS Ukraine-147" in body["errors"][0]["message"]


@pytest.mark.parametrize("query", [CATALOG, EXECUTE], ids=["catalog", "execute"])
def test_a_granted_database_that_is_not_loaded_looks_like_a_missing_one(world: World, query: str) -> None:
    user = world.new_user(UNLOADED_KOMMUNE, (("ukraine", "aggregated"),))
    own, missing = f"FLIS Ukraine-{UNLOADED_KOMMUNE}", "FLIS Ukraine-999"
    with world.client(user) as client:
        # the Ukraine benchmark is readable from every kommune; the own database, not loaded, is not there
        assert post(client, "{ catalogs { name } }").json() == {"data": {"catalogs": [{"name": "FLIS Ukraine Benchmark"}]}}
        answers = {name: post(client, query, {"n": name}) for name in (own, missing)}
    assert _shape(answers[own], own) == _shape(answers[missing], missing)
    assert answers[own].json()["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
