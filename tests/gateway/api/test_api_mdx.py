"""MDX through the service layer (``gateway.mdx.run_mdx`` over a real DataSession) and totals on
request through GraphQL over mTLS, on the demo data: same access, same cells, same audit trail."""

from __future__ import annotations

import pytest
from api_world import World, gql_data
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.api.context import RequestTrail
from gateway.api.execute_types import AxisItemInput, CubeQueryInput
from gateway.api.results import cube_query_from_input
from gateway.api.session import DataSession
from gateway.errors import AccessDeniedError, NotFoundError
from gateway.mdx import run_mdx

OWN_VH, OTHER_VH = "FLIS Voksne Handicappede-101", "FLIS Voksne Handicappede-147"
UKRAINE = "FLIS Ukraine-101"
BY_SEX_MDX = (
    "SELECT NON EMPTY Hierarchize(AddCalculatedMembers({DrilldownLevel({[Køn].[Køn].[All]})})) ON COLUMNS,"
    " {[Measures].[Indrejste], [Measures].[Udrejste]} ON ROWS FROM [Ukraine Statistik]"
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
    session, trail = session_for(world, "exact101")  # an individual grant: exact numbers, no disclosure noise
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
    session, trail = session_for(world, "exact101")
    texts = []
    for name in ("FLIS Ukraine-147", "FLIS Ukraine-999"):
        with pytest.raises(AccessDeniedError) as raised:
            run_mdx(session, name, BY_SEX_MDX)
        texts.append(str(raised.value).replace(name, "<db>"))
    assert texts[0] == texts[1] == (
        f"Either the user, '{world.user('exact101').login}', does not have access to the '<db>' database, "
        "or the database does not exist."
    )
    assert trail.cells == 0


def test_a_cube_named_in_from_must_be_in_the_opened_database(world: World) -> None:
    session, _ = session_for(world, "exact101")
    with pytest.raises(NotFoundError, match="The cube 'Voksne Handicappede' was not found"):
        run_mdx(session, UKRAINE, "SELECT {[Measures].[Unikke modtagere]} ON 0 FROM [Voksne Handicappede]")



def test_from_may_name_the_opened_database_and_no_other(world: World) -> None:
    session, _ = session_for(world, "exact101")
    own = run_mdx(session, UKRAINE, BY_SEX_MDX.replace("FROM [Ukraine Statistik]", "FROM [flis ukraine-101].[Ukraine Statistik]"))
    assert own.cells == run_mdx(session, UKRAINE, BY_SEX_MDX).cells
    texts = []
    for other in ("FLIS Ukraine-147", "FLIS Ukraine-999"):  # another kommune's, and none: alike
        with pytest.raises(NotFoundError) as raised:
            run_mdx(session, UKRAINE, BY_SEX_MDX.replace("FROM [Ukraine Statistik]", f"FROM [{other}].[Ukraine Statistik]"))
        texts.append(str(raised.value).replace(other, "<db>"))
    assert texts[0] == texts[1] == "The cube '[<db>].[Ukraine Statistik]' was not found."

PERSON_LEVEL = "SELECT {[Measures].[Unikke modtagere]} ON 0, Head([Borger].[Borger].[Personnummer].Members, 2) ON 1 FROM [Voksne Handicappede]"


def test_person_level_is_invisible_without_an_individual_grant(world: World) -> None:
    session, _ = session_for(world, "some101")  # aggregated Voksenhandicap
    with pytest.raises(NotFoundError, match=r"\[Borger\]"):
        run_mdx(session, OWN_VH, PERSON_LEVEL)
    individual, trail = session_for(world, "exact101")
    result = run_mdx(individual, OWN_VH, PERSON_LEVEL)
    assert len(result.axes[1]) == 2 and all(c.value == 1 for c in result.cells)
    assert "read_individual" in trail.operations  # person-level members read: on the audit record


def test_graphql_totals_on_request(world: World) -> None:
    query = {
        "cube": "Voksne Handicappede",
        "measures": ["[Measures].[Unikke modtagere]"],
        "rows": [{"level": "[Ydelse].[Ydelse].[Kategori]"}],
        "totals": True,
    }
    with world.client(world.user("exact101")) as client:
        data = gql_data(client, TOTALS, {"catalog": OWN_VH, "q": query})
    cell_set = data["execute"]["cellSet"]
    last = cell_set["axes"][1]["tuples"][-1]["members"][0]
    assert last == {"uniqueName": "[Ydelse].[Ydelse].[All]", "caption": "All", "depth": -1, "key": None}
    values = [c["value"] for c in cell_set["cells"]]
    persons = world.oracle(OWN_VH, "SELECT COUNT(DISTINCT person_noegle) FROM forloeb_maaned")
    assert values[-1] == persons
    assert sum(values[:-1]) >= persons  # a person may receive services of several categories


def test_a_remembered_answer_is_counted_and_never_crosses_grant_levels(world: World) -> None:
    individual, _ = session_for(world, "exact101")
    first = run_mdx(individual, OWN_VH, PERSON_LEVEL)
    again, trail = session_for(world, "exact101")
    assert run_mdx(again, OWN_VH, PERSON_LEVEL) == first
    assert trail.cells == len(first.cells)  # served from the cache, still on the request's count
    assert "read_individual" in trail.operations  # and still on the audit record as a person-level read
    aggregated, _ = session_for(world, "some101")
    with pytest.raises(NotFoundError):
        run_mdx(aggregated, OWN_VH, PERSON_LEVEL)


LEVELS = {
    "Tid": ["[Tid].[Tid].[År]", "[Tid].[Tid].[Kvartal]"],
    "Aldersgruppe": ["[Aldersgruppe].[Aldersgruppe].[Aldersgruppe]"],
    "Køn": ["[Køn].[Køn].[Køn]"],
    "Fra kommune": ["[Fra kommune].[Fra kommune].[Region]"],
}
MEASURES = ["Indrejste", "Udrejste", "Nettotilvækst", "Akkumuleret tilvækst"]


@settings(max_examples=12, deadline=None)
@given(
    dimensions=st.permutations(list(LEVELS)),
    rows=st.integers(1, 2),
    columns=st.integers(0, 1),
    measures=st.lists(st.sampled_from(MEASURES), min_size=1, max_size=2, unique=True),
    pick=st.integers(0, 1),
)
def test_the_mdx_and_graphql_paths_serve_the_same_cells(
    world: World, dimensions: list[str], rows: int, columns: int, measures: list[str], pick: int
) -> None:
    row_levels = [LEVELS[d][pick % len(LEVELS[d])] for d in dimensions[:rows]]
    column_levels = [LEVELS[d][pick % len(LEVELS[d])] for d in dimensions[rows : rows + columns]]
    session, _ = session_for(world, "some101")
    graphql = session.query(UKRAINE, cube_query_from_input(CubeQueryInput(
        cube="Ukraine Statistik", measures=[f"[Measures].[{m}]" for m in measures], non_empty=False,
        rows=[AxisItemInput(level=level) for level in row_levels],
        columns=[AxisItemInput(level=level) for level in column_levels],
    )))
    expected = {
        frozenset(m.unique_name for m in row.members + column.members): graphql.cell(c, r).value
        for r, row in enumerate(graphql.axes[1].tuples)
        for c, column in enumerate(graphql.axes[0].tuples)
    }
    measure_set = "{" + ", ".join(f"[Measures].[{m}]" for m in measures) + "}"
    on_columns = " * ".join([f"{level}.Members" for level in column_levels] + [measure_set])
    on_rows = " * ".join(f"{level}.Members" for level in row_levels)
    mdx_session, _ = session_for(world, "some101")
    result = run_mdx(mdx_session, UKRAINE, f"SELECT {on_columns} ON COLUMNS, {on_rows} ON ROWS FROM [Ukraine Statistik]")
    width = len(result.axes[0])
    found = {
        frozenset(m.unique_name for m in row + column): result.cells[r * width + c].value
        for r, row in enumerate(result.axes[1].tuples)
        for c, column in enumerate(result.axes[0].tuples)
    }
    assert found == expected


EXCEL_FILTERED_PIVOT = """SELECT
  NON EMPTY CrossJoin(Hierarchize(AddCalculatedMembers({DrilldownLevel({[Køn].[Køn].[All]})})), {[Measures].[Indrejste],[Measures].[Udrejste]}) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS ,
  NON EMPTY Hierarchize(AddCalculatedMembers({DrilldownLevel({DrilldownLevel({[Tid].[Tid].[All]})},[Tid].[Tid].[År])})) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON ROWS
FROM (SELECT ({[Aldersgruppe].[Aldersgruppe].&[0-17], [Aldersgruppe].[Aldersgruppe].&[18-29]}) ON COLUMNS FROM [Ukraine Statistik])
CELL PROPERTIES VALUE, FORMAT_STRING, LANGUAGE, BACK_COLOR, FORE_COLOR, FONT_FLAGS"""


def test_excel_filtered_pivot_with_subtotals_on_the_demo_cube(world: World) -> None:
    session, _ = session_for(world, "exact101")  # exact numbers to check against the database
    result = run_mdx(session, UKRAINE, EXCEL_FILTERED_PIVOT)
    columns = [tuple(m.unique_name for m in t) for t in result.axes[0].tuples]
    assert columns[:2] == [("[Køn].[Køn].[All]", "[Measures].[Indrejste]"), ("[Køn].[Køn].[All]", "[Measures].[Udrejste]")]
    rows = [t[0] for t in result.axes[1].tuples]
    assert rows[0].is_all and rows[0].drilled_down and rows[1].level_number == 1
    assert {r.level_number for r in rows} == {0, 1, 2}  # All, years, quarters of the drilled years
    filtered = "FROM haendelser WHERE aldersgruppe IN ('0-17', '18-29')"
    assert result.cell(0, 0).value == world.oracle(UKRAINE, f"SELECT SUM(indrejst) {filtered}")
    assert result.cell(1, 0).value == world.oracle(UKRAINE, f"SELECT SUM(udrejst) {filtered}")
    kvinde = columns.index(("[Køn].[Køn].&[K]", "[Measures].[Indrejste]"))
    assert result.cell(kvinde, 0).value == world.oracle(UKRAINE, f"SELECT SUM(indrejst) {filtered} AND koen = 'K'")
    years = [i for i, r in enumerate(rows) if r.level_number == 1]
    assert sum(result.cell(0, i).value or 0 for i in years) == result.cell(0, 0).value
