"""The compiled SQL is the best SQL: dimension tables joined only where a level needs them."""

from __future__ import annotations

import pytest
from engine_fixtures import CUBES
from sqlalchemy.engine import Connection

from gateway.engine.compile import compile_plan
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem


def _sql(db: Connection, query: CubeQuery) -> str:
    plan = plan_query(db, CUBES, query, cell_limit=100_000)
    statement, _ = compile_plan(plan)
    return str(statement.compile(dialect=db.dialect))


@pytest.mark.parametrize(
    ("rows", "slicers", "joined"),
    [
        # key levels: grouped and filtered on the fact table's own foreign keys, nothing joined
        (("[Aldersgruppe].[Aldersgruppe]", "[Køn].[Køn]"), (), set()),
        (("[Til kommune].[Kommune]",), ("[Køn].[Køn].&[K]", "[Fra kommune].[Fra kommune].[Kommune].&[101]"), set()),
        # month is an attribute of dim_tid only: that one join, no other
        (("[Tid].[Måned]", "[Aldersgruppe].[Aldersgruppe]", "[Køn].[Køn]"), (), {"dim_tid"}),
        # a slicer on a non-key level needs its dimension table
        (("[Køn].[Køn]",), ("[Til kommune].[Til kommune].[Region].&[Hovedstaden]",), {"dim_kommune"}),
    ],
)
def test_only_dimensions_whose_attributes_are_needed_are_joined(
    duck: Connection, rows: tuple[str, ...], slicers: tuple[str, ...], joined: set[str]
) -> None:
    sql = _sql(duck, CubeQuery("Ukraine", ("Indrejste",), rows=tuple(LevelItem(r) for r in rows), slicers=slicers))
    tables = {"dim_tid", "dim_aldersgruppe", "dim_koen", "dim_aegtefaelle", "dim_kommune"}
    assert {t for t in tables if t in sql} == joined
    assert sql.count("SELECT") == 1  # one statement, no subqueries
