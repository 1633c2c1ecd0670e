"""Properties: MDX and GraphQL answer alike; All-member totals are the database's own aggregate.

Totals of every measure kind are checked against SQL written here by hand over the fixture
tables, at the grain of the total, under random filters (subselects) on a dimension and on time:
a total is never the sum of the cells shown (distinct counts, ratios, averages, running totals).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from gateway.api.execute_types import AxisItemInput, CubeQueryInput
from gateway.api.results import cube_query_from_input
from gateway.engine.execute import run_query
from tests.gateway.engine.engine_fixtures import CUBES
from tests.gateway.mdx.conftest import LIMITS, run_mdx_on

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

MONTHS = ["2022-01", "2022-02", "2022-03", "2022-04"]

# cube → (filter hierarchy, its level, key column on the fact, keys, month source, {measure: SQL aggregate})
UKRAINE_FROM = "haendelser f JOIN dim_tid t ON t.dato = f.dato WHERE f.koen IN :keys"
TOTALS: dict[str, tuple[str, str, list[str], str, dict[str, str]]] = {
    "Ukraine": (
        "[Køn].[Køn]", "Køn", ["K", "M"], UKRAINE_FROM + " AND t.maaned IN :months",
        {
            "Indrejste": "SUM(f.indrejst)",
            "Hændelser": "COUNT(*)",
            "Nettoindvandring": "SUM(f.indrejst) - SUM(f.udrejst)",
        },
    ),
    "Voksenhandicap": (
        "[Ydelse].[Ydelse]", "Ydelse", ["1.8", "1.10", "1.11"],
        "modtagelser f WHERE f.ydelse IN :keys AND f.maaned IN :months",
        {
            "Unikke modtagere": "COUNT(DISTINCT f.cpr)",
            "Ydelsesrækker": "COUNT(*)",
            "Modtagne dage": "SUM(f.dage_modtaget)",
            "Gennemsnitlige dage": "CAST(SUM(f.dage_modtaget) AS DOUBLE PRECISION) / COUNT(f.dage_modtaget)",
            "Færreste dage": "MIN(f.dage_modtaget)",
            "Flest dage": "MAX(f.dage_modtaget)",
            "Helårsmodtagere": "CAST(SUM(f.dage_modtaget) AS DOUBLE PRECISION)"
                               " / (SELECT SUM(dage) FROM dim_periode WHERE maaned IN :months)",
        },
    ),
    "Borger": (
        "[Køn].[Køn]", "Køn", ["K", "M"], "befolkning f WHERE f.koen IN :keys AND f.maaned IN :months",
        {
            "Fødte": "SUM(f.foedte)",
            "Fødte pr. 10.000 indbyggere": "CAST(SUM(f.foedte) AS DOUBLE PRECISION) / NULLIF(SUM(f.indbyggere), 0) * 10000",
            "Fødte pr. indbygger": "CAST(SUM(f.foedte) AS DOUBLE PRECISION) / NULLIF(SUM(f.indbyggere), 0)",
        },
    ),
}
# A running total's total over some months is its value at the end of the last one, from the start of data.
RUNNING = ("Akkumuleret tilvækst", "SUM(f.indrejst - f.udrejst + f.tilflyttet - f.fraflyttet)",
           "haendelser f JOIN dim_tid t ON t.dato = f.dato WHERE f.koen IN :keys"
           " AND t.dato <= (SELECT MAX(dato) FROM dim_tid WHERE maaned IN :months)")

CASES = [(cube, measure) for cube, spec in TOTALS.items() for measure in spec[4]] + [("Ukraine", RUNNING[0])]
TIME = {"Ukraine": "[Tid].[Tid].[Måned]", "Voksenhandicap": "[Periode].[Periode].[Måned]", "Borger": "[Periode].[Periode].[Måned]"}


def oracle(db: Connection, cube: str, measure: str, keys: list[str], months: list[str]) -> Any:
    """The aggregate straight from SQL; None where the engine has no group (no rows at all)."""
    if measure == RUNNING[0]:
        aggregate, source = RUNNING[1], RUNNING[2]
    else:
        aggregate, source = TOTALS[cube][4][measure], TOTALS[cube][3]
    statement = sa.text(f"SELECT {aggregate} AS v, COUNT(*) AS n FROM {source}").bindparams(
        sa.bindparam("keys", expanding=True), sa.bindparam("months", expanding=True)
    )
    row = db.execute(statement, {"keys": keys, "months": months}).one()
    if row.n == 0:
        return None
    return float(row.v) if row.v is not None and not isinstance(row.v, int) else row.v


@PROPERTY_SETTINGS
@given(
    case=st.sampled_from(CASES),
    key_mask=st.lists(st.booleans(), min_size=3, max_size=3).filter(any),
    month_mask=st.lists(st.booleans(), min_size=4, max_size=4).filter(any),
)
def test_all_member_totals_equal_sql_at_their_grain(
    db: Connection, case: tuple[str, str], key_mask: list[bool], month_mask: list[bool]
) -> None:
    cube, measure = case
    hierarchy, level, all_keys, _, _ = TOTALS[cube]
    keys = [k for k, keep in zip(all_keys, key_mask) if keep] or all_keys[:1]
    available = MONTHS if cube == "Ukraine" else MONTHS[:3]  # dim_periode holds January to March
    months = [m for m, keep in zip(available, month_mask) if keep] or available[:1]
    members = ", ".join(f"{hierarchy}.&[{k}]" for k in keys)
    month_members = ", ".join(f"{TIME[cube]}.&[{m}]" for m in months)
    text = (
        f"SELECT {{[Measures].[{measure}]}} ON 0, Hierarchize({{DrilldownLevel({{{hierarchy}.[All]}})}}) ON 1"
        f" FROM (SELECT ({{{month_members}}}) ON 0 FROM (SELECT ({{{members}}}) ON 0 FROM [{cube}]))"
    )
    result = run_mdx_on(db, text)
    rows = [t[0] for t in result.axes[1].tuples]
    assert rows[0].is_all and [r.key for r in rows[1:]] == sorted(keys, key=all_keys.index)
    assert_same(result.cells[0].value, oracle(db, cube, measure, keys, months))
    for row, cell in zip(rows[1:], result.cells[1:]):
        assert_same(cell.value, oracle(db, cube, measure, [row.key or ""], months))


def assert_same(found: Any, expected: Any) -> None:
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected, rel=1e-9)


def test_a_distinct_count_total_is_not_the_sum_of_its_rows(db: Connection) -> None:
    result = run_mdx_on(db, "SELECT {[Measures].[Unikke modtagere]} ON 0, "
                            "{[Ydelse].[Ydelse].[All], [Ydelse].[Ydelse].[Ydelse].Members} ON 1 FROM [Voksenhandicap]")
    total, *rows = [c.value for c in result.cells]
    assert total == 3 and sum(rows) == 4  # person C received two services


LEVELS = {
    "Tid": ["[Tid].[Tid].[År]", "[Tid].[Tid].[Kvartal]", "[Tid].[Tid].[Måned]"],
    "Aldersgruppe": ["[Aldersgruppe].[Aldersgruppe].[Aldersgruppe]"],
    "Køn": ["[Køn].[Køn].[Køn]"],
    "Ægtefælle": ["[Ægtefælle].[Ægtefælle].[Ægtefælle]"],
    "Fra kommune": ["[Fra kommune].[Fra kommune].[Region]", "[Fra kommune].[Fra kommune].[Kommune]"],
    "Til kommune": ["[Til kommune].[Til kommune].[Kommune]"],
}
SLICERS = {
    "Tid": ["[Tid].[Tid].[Kvartal].&[2022-K1]", "[Tid].[Tid].[Måned].&[2022-02]"],
    "Aldersgruppe": ["[Aldersgruppe].[Aldersgruppe].&[voksen]", "[Aldersgruppe].[Aldersgruppe].&[barn]"],
    "Køn": ["[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]"],
    "Ægtefælle": ["[Ægtefælle].[Ægtefælle].&[J]"],
    "Fra kommune": ["[Fra kommune].[Fra kommune].[Kommune].&[999]"],
    "Til kommune": ["[Til kommune].[Til kommune].[Kommune].&[101]"],
}
MEASURES = ["Indrejste", "Udrejste", "Nettoindvandring", "Hændelser", "Akkumuleret tilvækst"]


@st.composite
def shapes(draw: st.DrawFn) -> dict[str, Any]:
    dimensions = draw(st.permutations(list(LEVELS)))
    rows = draw(st.integers(1, 2))
    columns = draw(st.integers(0, 1))
    slicers = draw(st.integers(0, 2))
    used = dimensions[: rows + columns + slicers]
    return {
        "measures": draw(st.lists(st.sampled_from(MEASURES), min_size=1, max_size=3, unique=True)),
        "rows": [draw(st.sampled_from(LEVELS[d])) for d in used[:rows]],
        "columns": [draw(st.sampled_from(LEVELS[d])) for d in used[rows : rows + columns]],
        "slicers": [draw(st.sampled_from(SLICERS[d])) for d in used[rows + columns :]],
    }


def _set(levels: list[str]) -> str:
    return " * ".join(f"{level}.Members" for level in levels)


@PROPERTY_SETTINGS
@given(shape=shapes())
def test_mdx_and_graphql_return_the_same_cells(db: Connection, shape: dict[str, Any]) -> None:
    graphql = CubeQueryInput(
        cube="Ukraine",
        measures=[f"[Measures].[{m}]" for m in shape["measures"]],
        columns=[AxisItemInput(level=level) for level in shape["columns"]],
        rows=[AxisItemInput(level=level) for level in shape["rows"]],
        slicers=shape["slicers"],
        non_empty=False,
    )
    cellset = run_query(db, CUBES, cube_query_from_input(graphql), limits=LIMITS, allow_individual=True)
    expected = {}
    for r, row in enumerate(cellset.axes[1].tuples):
        for c, column in enumerate(cellset.axes[0].tuples):
            names = tuple(m.unique_name for m in row.members) + tuple(m.unique_name for m in column.members)
            expected[frozenset(names)] = cellset.cell(c, r).value

    measures = "{" + ", ".join(f"[Measures].[{m}]" for m in shape["measures"]) + "}"
    columns = f"{_set(shape['columns'])} * {measures}" if shape["columns"] else measures
    where = f" WHERE ({', '.join(shape['slicers'])})" if shape["slicers"] else ""
    result = run_mdx_on(db, f"SELECT {columns} ON COLUMNS, {_set(shape['rows'])} ON ROWS FROM [Ukraine]{where}")
    found = {}
    width = len(result.axes[0])
    for r, row in enumerate(result.axes[1].tuples):
        for c, column in enumerate(result.axes[0].tuples):
            found[frozenset(m.unique_name for m in row + column)] = result.cells[r * width + c].value
    assert found == expected
