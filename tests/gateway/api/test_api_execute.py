"""Execute over real mTLS on real DuckDB: cell sets, precise errors, inert injections, the cell limit."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from api_world import World, audit_events_for, gql_data, post

from gateway.app import build_gateway, create_app

EXECUTE = """query($catalog: String!, $q: CubeQueryInput!) {
  execute(catalog: $catalog, query: $q) {
    catalog cube dataAsOf
    cellSet {
      axes { ordinal name tuples { ordinal members { uniqueName caption levelUniqueName depth key } } }
      cells { ordinal value formattedValue }
    }
    rowset { columns { name uniqueName kind } rows }
  }
}"""

BY_SEX = {
    "cube": "Ukraine Statistik",
    "measures": ["[Measures].[Indrejste]", "[Measures].[Udrejste]", "[Measures].[Nettoindvandring]"],
    "rows": [{"level": "[Køn].[Køn].[Køn]"}],
}


def _execute(client: Any, query: dict[str, Any], catalog: str = "FLIS Ukraine-101") -> Any:
    return post(client, EXECUTE, {"catalog": catalog, "q": query})


def _only_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    return error  # type: ignore[no-any-return]


def test_execute_returns_a_cell_set_and_rowset_for_the_own_kommune(world: World) -> None:
    exact = world.new_user("101", (("ukraine", "individual"),))  # an individual grant: the database's own numbers
    with world.client(exact) as client:
        result = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": BY_SEX})["execute"]
    assert result["catalog"] == "FLIS Ukraine-101" and result["cube"] == "Ukraine Statistik"
    assert result["dataAsOf"] is not None
    columns, rows = result["cellSet"]["axes"]
    assert (columns["ordinal"], columns["name"], rows["ordinal"], rows["name"]) == (0, "COLUMNS", 1, "ROWS")
    assert [t["members"][0]["uniqueName"] for t in columns["tuples"]] == BY_SEX["measures"]
    assert [t["members"][0]["uniqueName"] for t in rows["tuples"]] == ["[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]"]
    assert rows["tuples"][0]["members"][0] == {
        "uniqueName": "[Køn].[Køn].&[K]",
        "caption": "Kvinde",
        "levelUniqueName": "[Køn].[Køn].[Køn]",
        "depth": 0,
        "key": "K",
    }
    cells = result["cellSet"]["cells"]
    assert [c["ordinal"] for c in cells] == list(range(6))
    for row in range(2):
        indrejste, udrejste, netto = (cells[row * 3 + i]["value"] for i in range(3))
        assert netto == indrejste - udrejste
        assert cells[row * 3]["formattedValue"] == f"{indrejste:,.0f}".replace(",", ".")
    # the rowset is the same numbers as a table
    assert [c["kind"] for c in result["rowset"]["columns"]] == ["level", "measure", "measure", "measure"]
    assert result["rowset"]["rows"] == [
        ["Kvinde", *(cells[i]["value"] for i in range(3))],
        ["Mand", *(cells[3 + i]["value"] for i in range(3))],
    ]
    # and the numbers are the database's own
    total = world.oracle("FLIS Ukraine-101", "select sum(indrejst) from haendelser")
    assert cells[0]["value"] + cells[3]["value"] == total


def test_execute_with_slicers_and_member_sets_filters_the_cells(world: World) -> None:
    query = {
        "cube": "Ukraine Statistik",
        "measures": ["[Measures].[Indrejste]"],
        "rows": [{"members": ["[Køn].[Køn].&[K]"]}],
        "slicers": ["[Køn].[Køn].&[K]"],
    }
    with world.client(world.user("some101")) as client:
        all_sexes = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": BY_SEX})["execute"]
        women = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": query})["execute"]
    assert [c["value"] for c in women["cellSet"]["cells"]] == [all_sexes["cellSet"]["cells"][0]["value"]]


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"cube": "Nope"}, "NOT_FOUND", "The cube 'Nope' was not found."),
        (
            {"measures": ["[Measures].[Nope]"]},
            "NOT_FOUND",
            "The measure '[Measures].[Nope]' was not found in the cube 'Ukraine Statistik'.",
        ),
        (
            {"rows": [{"level": "[Køn].[Køn].[Nope]"}]},
            "NOT_FOUND",
            "The level '[Køn].[Køn].[Nope]' was not found in the cube 'Ukraine Statistik'.",
        ),
        (
            {"rows": [{"members": ["[Køn].[Køn].&[X]"]}]},
            "NOT_FOUND",
            "The member 'X' was not found in the level '[Køn].[Køn].[Køn]' of the cube 'Ukraine Statistik'.",
        ),
        ({"rows": [{}]}, "INVALID_QUERY", "rows[0] needs exactly one of 'level' or 'members'."),
        ({"rows": [{"members": []}]}, "INVALID_QUERY", "rows[0].members must name at least one member."),
        ({"limit": -1}, "INVALID_QUERY", "'limit' must not be negative."),
    ],
    ids=["cube", "measure", "level", "member", "empty-axis-item", "empty-member-set", "negative-limit"],
)
def test_unknown_names_and_bad_shapes_get_precise_client_errors(
    world: World, change: dict[str, Any], code: str, message: str
) -> None:
    with world.client(world.user("some101")) as client:
        error = _only_error(_execute(client, {**BY_SEX, **change}))
    assert error["extensions"]["code"] == code
    assert error["message"] == message
    assert error["path"] == ["execute"]


INJECTIONS = [
    {"cube": 'Ukraine"; DROP TABLE haendelser; --'},
    {"measures": ["[Measures].[Indrejste]) FROM haendelser; DROP TABLE haendelser; --"]},
    {"rows": [{"level": "[Køn].[Køn].[Køn]; DROP TABLE haendelser"}]},
    {"slicers": ["[Køn].[Køn].&[K'); DROP TABLE haendelser; --]"]},
    {"slicers": ["[Køn].[Køn].&[K' OR '1'='1]"]},
    {"rows": [{"members": ["[Køn].[Køn].&[M] UNION SELECT * FROM duckdb_tables()"]}]},
    {"orderBy": [{"measure": "1; DROP TABLE haendelser"}]},
    {"slicers": ["[Køn].[Køn].&[K\u0000]"]},
    {"rows": [{"level": "[Køn].[Køn].[Køn]\u0000"}]},
    {"cube": "Ukraine\u0000"},
]


@pytest.mark.parametrize("change", INJECTIONS)
def test_injection_attempts_in_names_and_keys_are_inert(world: World, change: dict[str, Any]) -> None:
    with world.client(world.user("some101")) as client:
        before = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": BY_SEX})
        error = _only_error(_execute(client, {**BY_SEX, **change}))
        after = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": BY_SEX})
    assert error["extensions"]["code"] in ("NOT_FOUND", "INVALID_QUERY")
    assert before == after


def test_a_query_over_the_cell_limit_is_refused_before_it_runs(world: World) -> None:
    huge = {
        "cube": "Ukraine Statistik",
        "measures": ["[Measures].[Indrejste]"],
        "rows": [{"level": "[Tid].[Tid].[Dag]"}, {"level": "[Fra kommune].[Fra kommune].[Kommunenavn Fraflyt]"}],
        "columns": [{"level": "[Til kommune].[Til kommune].[Kommunenavn Tilflyt]"}],
        "nonEmpty": False,
    }
    with world.client(world.user("some101")) as client:
        error = _only_error(_execute(client, huge))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "the limit is 500,000" in error["message"]


def test_a_low_cell_limit_setting_refuses_a_modest_query(world: World) -> None:
    settings = dataclasses.replace(world.settings, cell_limit=5)
    gateway = build_gateway(settings, store=world.store)
    app = create_app(settings, gateway=gateway)
    months = {"cube": "Ukraine Statistik", "measures": ["[Measures].[Indrejste]"], "rows": [{"level": "[Tid].[Tid].[Måned]"}]}
    try:
        with world.serve(app) as server, world.client(world.user("some101"), url=server.url) as client:
            refused = _only_error(_execute(client, months))
            small = gql_data(client, EXECUTE, {"catalog": "FLIS Ukraine-101", "q": {**BY_SEX, "measures": BY_SEX["measures"][:2]}})
    finally:
        gateway.registry.close()
    assert refused["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "the limit is 5." in refused["message"]
    assert len(small["execute"]["cellSet"]["cells"]) == 4


def test_aliases_cannot_multiply_the_cell_limit(world: World) -> None:
    """Six cells allowed per request: the first aliased execute (4 cells) runs, the second (4) is refused."""
    settings = dataclasses.replace(world.settings, cell_limit=6)
    gateway = build_gateway(settings, store=world.store)
    app = create_app(settings, gateway=gateway)
    two = """query($q: CubeQueryInput!) {
      a: execute(catalog: "FLIS Ukraine-101", query: $q) { cellSet { cells { value } } }
      b: execute(catalog: "FLIS Ukraine-101", query: $q) { cellSet { cells { value } } }
    }"""
    q = {**BY_SEX, "measures": BY_SEX["measures"][:2]}
    try:
        with world.serve(app) as server, world.client(world.user("some101"), url=server.url) as client:
            body = post(client, two, {"q": q}).json()
    finally:
        gateway.registry.close()
    # execute is non-null, so the refused alias nulls the whole answer: no cells beyond the budget leave
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["path"] in (["a"], ["b"])


def test_the_audit_trail_keeps_the_variables_that_carry_the_cube_query(world: World) -> None:
    with world.client(world.user("some101")) as client:
        response = _execute(client, BY_SEX)
    assert response.status_code == 200
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert record.event.query is not None
    assert "# variables:" in record.event.query
    assert "[Measures].[Nettoindvandring]" in record.event.query
    assert "FLIS Ukraine-101" in record.event.query
