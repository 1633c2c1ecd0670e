"""Totals on request: every axis level gains an All member whose cells the database computes at
their own grain (hand-counted from engine_fixtures on DuckDB and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_fixtures import CUBES
from sqlalchemy.engine import Connection

from gateway.engine.cellset import CellSet
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem, Order
from gateway.engine.resolve import find_cube
from gateway.engine.totals import with_totals
from gateway.errors import QueryError

LIMITS = Limits(cell_limit=100_000, timeout_seconds=10)


def totals(db: Connection, query: CubeQuery, statements: list[CubeQuery] | None = None) -> CellSet:
    def run(grain: CubeQuery) -> CellSet:
        if statements is not None:
            statements.append(grain)
        return run_query(db, CUBES, grain, limits=LIMITS, allow_individual=True)

    return with_totals(query, find_cube(CUBES, query.cube), run)


def table(result: CellSet) -> dict[str, list[object]]:
    width = result.column_count
    return {
        " / ".join(m.caption for m in row.members): [c.value for c in result.cells[i * width : (i + 1) * width]]
        for i, row in enumerate(result.axes[1].tuples)
    }


def test_distinct_count_totals_are_counted_not_added(db: Connection) -> None:
    query = CubeQuery("Voksenhandicap", ("[Measures].[Unikke modtagere]", "[Measures].[Helårsmodtagere]"),
                      rows=(LevelItem("[Ydelse].[Ydelse]"),))
    result = totals(db, query)
    rows = table(result)
    assert list(rows)[-1] == "All"
    assert rows["All"][0] == 3  # the rows hold 2 + 1 + 1: person C has two services
    assert rows["All"][1] == pytest.approx((17 + 31 + 28 + 31 + 28 + 14) / 90)
    all_member = result.axes[1].tuples[-1].members[0]
    assert all_member.unique_name == "[Ydelse].[Ydelse].[All]" and all_member.level_depth == -1
    assert result.cells[-1].formatted_value == "1,66"


def test_subtotals_across_two_axes_and_a_running_total(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("[Measures].[Indrejste]", "[Measures].[Akkumuleret tilvækst]"),
                      columns=(LevelItem("[Køn].[Køn]"),), rows=(LevelItem("[Tid].[Tid].[Måned]"),))
    statements: list[CubeQuery] = []
    result = totals(db, query, statements)
    assert len(statements) == 4  # month × sex, month, sex, nothing
    assert [" / ".join(m.caption for m in t.members) for t in result.axes[0].tuples] == [
        "Kvinde / Indrejste", "Kvinde / Akkumuleret tilvækst", "Mand / Indrejste", "Mand / Akkumuleret tilvækst",
        "All / Indrejste", "All / Akkumuleret tilvækst",
    ]
    rows = table(result)
    assert rows["januar 2022"] == [2, 2, 1, 1, 3, 3]
    assert rows["april 2022"] == [0, 1, None, 3, 0, 4]
    # over all months: arrivals add up; the running total is its value at the end of data
    assert rows["All"] == [3, 1, 3, 3, 6, 4]


def test_a_rolled_up_member_set_totals_only_its_members(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",),
                      rows=(MemberSetItem(("[Aldersgruppe].[Aldersgruppe].&[barn]", "[Aldersgruppe].[Aldersgruppe].&[aeldre]")),),
                      non_empty=False)
    rows = table(totals(db, query))
    assert rows == {"0-17 år": [2], "65+ år": [0], "All": [2]}


def test_a_rolled_up_member_set_meets_slicers_on_its_level(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",),
                      rows=(MemberSetItem(("[Køn].[Køn].&[K]",)),), slicers=("[Køn].[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]"))
    assert table(totals(db, query)) == {"Kvinde": [3], "All": [3]}  # not K or M: K, as shown
    disjoint = replace(query, slicers=("[Køn].[Køn].&[M]",), non_empty=False)
    assert table(totals(db, disjoint))["All"] == [None]


def test_totals_refuse_paging_and_ordering(db: Connection) -> None:
    base = CubeQuery("Ukraine", ("[Measures].[Indrejste]",), rows=(LevelItem("[Køn].[Køn]"),))
    for query in (replace(base, limit=1), replace(base, offset=1), replace(base, order=(Order("[Measures].[Indrejste]"),))):
        with pytest.raises(QueryError, match="Totals cannot be combined"):
            totals(db, query)
