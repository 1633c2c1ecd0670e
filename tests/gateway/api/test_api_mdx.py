"""MDX through the service layer (``gateway.mdx.run_mdx`` over a real DataSession) and totals on
request through GraphQL over mTLS, on the demo data: same access, same cells, same audit trail."""

from __future__ import annotations

import pytest
from api_world import World, gql_data

from gateway.api.context import RequestTrail
from gateway.api.session import DataSession
from gateway.errors import AccessDeniedError, NotFoundError
from gateway.mdx import run_mdx

OWN_VH, OTHER_VH = "FLIS Voksne Handicappede-101", "FLIS Voksne Handicappede-147"
UKRAINE = "FLIS Ukraine-101"
BY_SEX_MDX = (
    "SELECT NON EMPTY Hierarchize(AddCalculatedMembers({DrilldownLevel({[Køn].[Køn].[All]})})) ON COLUMNS,"
    " {[Measures].[Indrejste], [Measures].[Udrejste]} ON ROWS FROM [Ukraine]"
)
TOTALS = """query($catalog: String!, $q: CubeQueryInput!) {
  execute(catalog: $catalog, query: $q) {
    cellSet { axes { tuples { members { uniqueName caption depth key } } } cells { value formattedValue } }
  }
}"""


def session_for(world: World, user: str) -> tuple[DataSession, RequestTrail]:
    principal = world.store.principal_for(world.user(user).fingerprint)
    assert principal is not None
    trail = RequestTrail()
    return world.gateway.sessions(principal, trail), trail


def test_mdx_totals_agree_with_the_database_and_the_trail_records_them(world: World) -> None:
    session, trail = session_for(world, "some101")
    result = run_mdx(session, UKRAINE, BY_SEX_MDX)
    assert [t[0].unique_name for t in result.axes[0].tuples] == ["[Køn].[Køn].[All]", "[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]"]
    arrivals, departures = (
        world.oracle(UKRAINE, f"SELECT SUM({column}) FROM haendelser") for column in ("indrejst", "udrejst")
    )
    assert result.cell(0, 0).value == arrivals and result.cell(0, 1).value == departures
    assert result.cell(1, 0).value + result.cell(2, 0).value == arrivals  # a sum adds up; the total is its own query
    assert result.catalog == UKRAINE and result.data_as_of is not None
    assert trail.databases == [UKRAINE]
    assert trail.cells > 0


def test_denied_and_missing_databases_give_the_same_denial(world: World) -> None:
    session, trail = session_for(world, "full101")
    texts = []
    for name in ("FLIS Ukraine-147", "FLIS Ukraine-999"):
        with pytest.raises(AccessDeniedError) as raised:
            run_mdx(session, name, BY_SEX_MDX)
        texts.append(str(raised.value).replace(name, "<db>"))
    assert texts[0] == texts[1] == (
        f"Either the user, '{world.user('full101').login}', does not have access to the '<db>' database, "
        "or the database does not exist."
    )
    assert trail.cells == 0


def test_a_cube_named_in_from_must_be_in_the_opened_database(world: World) -> None:
    session, _ = session_for(world, "full101")
    with pytest.raises(NotFoundError, match="The cube 'Voksne Handicappede' was not found"):
        run_mdx(session, UKRAINE, "SELECT {[Measures].[Unikke modtagere]} ON 0 FROM [Voksne Handicappede]")


PERSON_LEVEL = "SELECT {[Measures].[Unikke modtagere]} ON 0, Head([Borger].[Borger].[Personnummer].Members, 2) ON 1 FROM [Voksne Handicappede]"


def test_person_level_is_invisible_without_an_individual_grant(world: World) -> None:
    session, _ = session_for(world, "some101")  # aggregated Voksenhandicap
    with pytest.raises(NotFoundError, match=r"\[Borger\]"):
        run_mdx(session, OWN_VH, PERSON_LEVEL)
    individual, _ = session_for(world, "full101")
    result = run_mdx(individual, OWN_VH, PERSON_LEVEL)
    assert len(result.axes[1]) == 2 and all(c.value == 1 for c in result.cells)


def test_graphql_totals_on_request(world: World) -> None:
    query = {
        "cube": "Voksne Handicappede",
        "measures": ["[Measures].[Unikke modtagere]"],
        "rows": [{"level": "[Ydelse].[Ydelse].[Kategori]"}],
        "totals": True,
    }
    with world.client(world.user("full101")) as client:
        data = gql_data(client, TOTALS, {"catalog": OWN_VH, "q": query})
    cell_set = data["execute"]["cellSet"]
    last = cell_set["axes"][1]["tuples"][-1]["members"][0]
    assert last == {"uniqueName": "[Ydelse].[Ydelse].[All]", "caption": "All", "depth": -1, "key": None}
    values = [c["value"] for c in cell_set["cells"]]
    persons = world.oracle(OWN_VH, "SELECT COUNT(DISTINCT person_noegle) FROM forloeb_maaned")
    assert values[-1] == persons
    assert sum(values[:-1]) >= persons  # a person may receive services of several categories


def test_a_remembered_answer_is_counted_and_never_crosses_grant_levels(world: World) -> None:
    individual, _ = session_for(world, "full101")
    first = run_mdx(individual, OWN_VH, PERSON_LEVEL)
    again, trail = session_for(world, "full101")
    assert run_mdx(again, OWN_VH, PERSON_LEVEL) == first
    assert trail.cells == len(first.cells)  # served from the cache, still on the request's count
    aggregated, _ = session_for(world, "some101")
    with pytest.raises(NotFoundError):
        run_mdx(aggregated, OWN_VH, PERSON_LEVEL)
