"""Exclusion filters: the Voksenhandicap seed's first extract, through GraphQL and MDX, equals SQL.

Seed 003 (Voksenhandicap), section 6.6, "Et første udtræk":

    Filter  Tid                 År            2020
    Kolonne Tid                 Måned
    Række   Harmonisering VH    DST Handling  <> 'Ukendt'
    Række   Harmonisering VH    Regel         <> 'Ukendt'
    Række   Borger              Personnummer
    Tæller  Unikke borgere      Antal Unikke Borgere

DST Handling is the parent level of Regel (one hierarchy), so the rows are Regel × Personnummer
and both ``<> 'Ukendt'`` are exclusions. An individual grant in the own kommune sees the
database's own numbers, so the answer must equal the SQL below exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from api_world import World, gql_data
from test_api_mdx import session_for

from gateway.mdx import run_mdx

OWN_VH = "FLIS Voksne Handicappede-101"
HARM = "[Harmonisering VH].[Harmonisering VH]"
EXCLUDED = [f"{HARM}.[DST Handling].&[Ukendt]", f"{HARM}.[Regel].&[ukendt]"]
RECIPE = {
    "cube": "Voksne Handicappede",
    "measures": ["[Measures].[Unikke modtagere]"],
    "columns": [{"level": "[Tid].[Tid].[Måned]"}],
    "rows": [{"level": f"{HARM}.[Regel]"}, {"level": "[Borger].[Borger].[Personnummer]"}],
    "slicers": ["[Tid].[Tid].[År].&[2020]"],
    "excludeSlicers": EXCLUDED,
}
EXECUTE = """query($catalog: String!, $q: CubeQueryInput!) {
  execute(catalog: $catalog, query: $q) {
    cellSet {
      axes { tuples { members { key } } }
      cells { ordinal value }
    }
  }
}"""
ORACLE = """
SELECT CAST(t.maaned AS VARCHAR), CAST(h.regel AS VARCHAR), CAST(b.personnummer AS VARCHAR),
       COUNT(DISTINCT f.person_noegle)
FROM forloeb_maaned f
JOIN dim_tid t ON f.maaned = t.maaned
JOIN dim_harmonisering h ON f.regel = h.regel
JOIN dim_borger b ON f.personnummer = b.personnummer
WHERE t.aar = '2020' AND h.dst_handling <> 'Ukendt' AND h.regel <> 'ukendt'
GROUP BY 1, 2, 3
"""


def _oracle(world: World) -> dict[tuple[str, str, str], float]:
    with world.gateway.registry.connect(OWN_VH) as connection:
        return {(m, r, p): float(n) for m, r, p, n in connection.execute(sa.text(ORACLE))}


def _cells(columns: list[str], rows: list[tuple[str, str]], values: Iterator[Any]) -> dict[tuple[str, str, str], float]:
    """Row-major cells → {(month, regel, person): value}, empty cells left out."""
    found = {}
    for regel, person in rows:
        for month in columns:
            value = next(values)
            if value is not None:
                found[(month, regel, person)] = float(value)
    return found


@pytest.fixture(scope="module")
def expected(world: World) -> dict[tuple[str, str, str], float]:
    found = _oracle(world)
    assert found, "the demo data must hold harmonisation flags in 2020 for this test to mean anything"
    return found


def test_the_seed_extract_through_graphql_equals_sql(world: World, expected: dict) -> None:
    with world.client(world.user("exact101")) as client:
        result = gql_data(client, EXECUTE, {"catalog": OWN_VH, "q": RECIPE})["execute"]["cellSet"]
    columns, rows = result["axes"]
    months = [t["members"][0]["key"] for t in columns["tuples"]]
    row_keys = [(t["members"][0]["key"], t["members"][1]["key"]) for t in rows["tuples"]]
    assert "ukendt" not in {regel for regel, _ in row_keys}
    assert _cells(months, row_keys, iter(c["value"] for c in result["cells"])) == expected


def test_without_the_exclusion_the_unflagged_citizens_come_back(world: World, expected: dict) -> None:
    unfiltered = {**RECIPE, "excludeSlicers": [], "rows": [{"level": f"{HARM}.[Regel]"}]}
    with world.client(world.user("exact101")) as client:
        result = gql_data(client, EXECUTE, {"catalog": OWN_VH, "q": unfiltered})["execute"]["cellSet"]
    assert "ukendt" in {t["members"][0]["key"] for t in result["axes"][1]["tuples"]}


MDX = (
    "SELECT NON EMPTY Descendants([Tid].[Tid].[År].&[2020], [Tid].[Tid].[Måned]) ON COLUMNS,"
    f" NON EMPTY {HARM}.[Regel].Members * [Borger].[Borger].[Personnummer].Members ON ROWS"
    f" FROM (SELECT Except({HARM}.[Regel].Members, {{{EXCLUDED[1]}}}) ON COLUMNS"
    f" FROM (SELECT Except({HARM}.[DST Handling].Members, {{{EXCLUDED[0]}}}) ON COLUMNS"
    " FROM [Voksne Handicappede]))"
    " WHERE ([Measures].[Unikke modtagere])"
)


MINUS = MDX.replace(f"Except({HARM}.[Regel].Members, {{{EXCLUDED[1]}}})", f"{HARM}.[Regel].Members - {{{EXCLUDED[1]}}}")


@pytest.mark.parametrize("mdx", [MDX, MINUS], ids=["except", "minus"])
def test_the_seed_extract_through_mdx_equals_sql(world: World, expected: dict, mdx: str) -> None:
    assert mdx.count("Except(") == (2 if mdx is MDX else 1)
    session, _ = session_for(world, "exact101")
    result = run_mdx(session, OWN_VH, mdx)
    months = [t[0].key for t in result.axes[0].tuples]
    row_keys = [(t[0].key, t[1].key) for t in result.axes[1].tuples]
    values = iter(result.cell(c, r).value for r in range(len(row_keys)) for c in range(len(months)))
    assert _cells(months, row_keys, values) == expected


def test_mdx_sends_an_except_that_keeps_most_of_a_level_as_an_exclusion(
    world: World, expected: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Except(Regel.Members, {ukendt})`` reaches the engine as ``regel NOT IN ('ukendt')``, not as
    the list of every other rule (on a person level that list would be thousands of keys)."""
    session, _ = session_for(world, "exact101")
    sent = []
    query_catalog = session.query_catalog

    def spy(catalog: Any, query: Any) -> Any:
        sent.append(query)
        return query_catalog(catalog, query)

    monkeypatch.setattr(session, "query_catalog", spy)
    text = MDX + " "  # its own text: not an answer remembered by the tests above
    result = run_mdx(session, OWN_VH, text)
    assert sent and all(q.exclude_slicers == tuple(EXCLUDED) for q in sent)
    assert not any(name.startswith(HARM) for q in sent for name in q.slicers)
    months = [t[0].key for t in result.axes[0].tuples]
    row_keys = [(t[0].key, t[1].key) for t in result.axes[1].tuples]
    values = iter(result.cell(c, r).value for r in range(len(row_keys)) for c in range(len(months)))
    assert _cells(months, row_keys, values) == expected


def test_the_seed_extract_exports_as_csv_with_the_same_numbers(world: World, expected: dict) -> None:
    """/export reads the same query JSON (``excludeSlicers`` included): one CSV row per regel and person."""
    with world.client(world.user("exact101")) as client:
        response = client.post("/export", content=json.dumps({"catalog": OWN_VH, "query": RECIPE}),
                               headers={"content-type": "application/json", "accept": "text/csv"})
    assert response.status_code == 200, response.text
    lines = response.content.decode("utf-8-sig").splitlines()
    persons = {(regel, person) for _, regel, person in expected}
    assert len(lines) - 1 == len(persons)
    assert not any("Ukendt" in line.split(";")[0] for line in lines[1:])


def test_an_unknown_excluded_member_is_a_precise_not_found(world: World) -> None:
    query = {**RECIPE, "excludeSlicers": [f"{HARM}.[DST Handling].&[Nope]"]}
    with world.client(world.user("exact101")) as client:
        body = client.post("/graphql", json={"query": EXECUTE, "variables": {"catalog": OWN_VH, "q": query}}).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == (
        "The member 'Nope' was not found in the level "
        f"'{HARM}.[DST Handling]' of the cube 'Voksne Handicappede'."
    )
