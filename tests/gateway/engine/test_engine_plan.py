"""Planning: unknown names are NotFoundError naming them, hostile text stays inert, size is checked first."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from engine_fixtures import CUBES
from sqlalchemy.engine import Connection

from gateway.engine.compile import compile_plan
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem, Order
from gateway.errors import LimitExceededError, NotFoundError, QueryError

HOSTILE = [
    "'; drop table haendelser; --",
    "x]]; drop table haendelser; --",
    "]]",
    "Køn\u202e\u0000🙂",
    '" OR 1=1 --',
]


def plan(db: Connection, query: CubeQuery, cell_limit: int = 10_000):  # type: ignore[no-untyped-def]
    return plan_query(db, CUBES, query, cell_limit=cell_limit)


def fact_rows(db: Connection) -> int:
    return db.execute(sa.text("select count(*) from haendelser")).scalar_one()


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (CubeQuery("Ukrain", ("Indrejste",)), "'Ukrain'"),
        (CubeQuery("Ukraine", ("[Measures].[Indrejst]",)), "'[Measures].[Indrejst]'"),
        (CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Uge]"),)), "'[Tid].[Uge]'"),
        (CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tiden].[Tid].[Måned]"),)), "'[Tiden].[Tid].[Måned]'"),
        (CubeQuery("Ukraine", ("Indrejste",), slicers=("[Køn].[Køn].&[X]",)), "'X'"),
        (CubeQuery("Ukraine", ("Indrejste",), rows=(MemberSetItem(("[Tid].[Tid].[Måned].&[2021-12]",)),)),
         "'2021-12'"),
    ],
)
def test_unknown_names_raise_not_found_naming_exactly_that(db: Connection, query: CubeQuery, named: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        plan(db, query)
    assert named in str(caught.value)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_and_keys_are_inert(db: Connection, text: str) -> None:
    before = fact_rows(db)
    attempts = [
        CubeQuery(text, ("Indrejste",)),
        CubeQuery("Ukraine", (text,)),
        CubeQuery("Ukraine", ("[Measures].[" + text.replace("]", "]]") + "]",)),
        CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[" + text.replace("]", "]]") + "]"),)),
        CubeQuery("Ukraine", ("Indrejste",), slicers=("[Køn].[Køn].&[" + text.replace("]", "]]") + "]",)),
        CubeQuery("Ukraine", ("Indrejste",), rows=(MemberSetItem(("[Tid].[Tid].[Dag].&[" + text.replace("]", "]]") + "]",)),)),
    ]
    for query in attempts:
        with pytest.raises(NotFoundError):
            plan(db, query)
    assert fact_rows(db) == before


def test_malformed_names_are_query_errors(db: Connection) -> None:
    for name in ("[Køn].[Køn].&[K", "[Køn]x[Køn]", "[Køn].[Køn].&[K].[Køn]", ""):
        with pytest.raises(QueryError):
            plan(db, CubeQuery("Ukraine", ("Indrejste",), slicers=(name,)))


def test_member_keys_reach_sql_only_as_bound_parameters(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Måned]"),), slicers=("[Køn].[Køn].&[K]",))
    statement, _ = compile_plan(plan(db, query))
    compiled = statement.compile(dialect=db.dialect)
    assert "'K'" not in str(compiled)
    assert "K" in compiled.params.values() or ["K"] in compiled.params.values()


def test_oversized_query_is_refused_before_the_fact_table_is_read(db: Connection) -> None:
    statements: list[str] = []
    sa.event.listen(db, "before_cursor_execute", lambda *args: statements.append(args[2]))
    query = CubeQuery("Ukraine", ("Indrejste", "Udrejste"), rows=(LevelItem("[Tid].[Dag]"),),
                      columns=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),))
    with pytest.raises(LimitExceededError) as caught:
        run_query(db, CUBES, query, limits=Limits(cell_limit=500))
    assert "720" in str(caught.value)  # 120 days × 3 age groups × 2 measures
    assert not any("haendelser" in s for s in statements)
    assert plan(db, query, cell_limit=720).estimated_cells == 720


def test_estimate_uses_explicit_sets_and_row_limit_does_not_hide_work(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Dag]"),),
                      columns=(MemberSetItem(("[Køn].[Køn].&[K]",)),), limit=5)
    assert plan(db, query).estimated_cells == 120


def test_invalid_query_shapes_are_refused(db: Connection) -> None:
    cases = [
        CubeQuery("Ukraine", ()),
        CubeQuery("Ukraine", ("Indrejste", "[Measures].[Indrejste]")),
        CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Måned]"),), columns=(LevelItem("[Tid].[År]"),)),
        CubeQuery("Ukraine", ("Indrejste",), rows=(MemberSetItem(("[Køn].[Køn].&[K]", "[Tid].[Tid].[År].&[2022]")),)),
        CubeQuery("Ukraine", ("Indrejste",), rows=(MemberSetItem(()),)),
        CubeQuery("Ukraine", ("Indrejste",), order=(Order("Udrejste"),)),
        CubeQuery("Ukraine", ("Indrejste",), order=(Order("[Køn].[Køn]"),)),
        CubeQuery("Ukraine", ("Indrejste",), limit=-1),
        CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Tid].[Måned].&[2022-01]"),)),
    ]
    for query in cases:
        with pytest.raises(QueryError):
            plan(db, query)


def test_short_and_full_level_names_resolve_alike(db: Connection) -> None:
    short = plan(db, CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Måned]"),)))
    full = plan(db, CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Tid].[Måned]"),)))
    assert short.rows == full.rows
    assert short.rows[0].ref.unique_name == "[Tid].[Tid].[Måned]"


def test_compiled_statement_compiles_for_both_dialects(duck: Connection) -> None:
    from sqlalchemy.dialects import postgresql

    query = CubeQuery("Ukraine", ("Indrejste", "Akkumuleret tilvækst"), columns=(LevelItem("[Køn].[Køn]"),),
                      rows=(LevelItem("[Tid].[Måned]"),), slicers=("[Tid].[Tid].[År].&[2022]",))
    statement, labels = compile_plan(plan(duck, query))
    for dialect in (postgresql.dialect(), duck.dialect):
        sql = str(statement.compile(dialect=dialect))
        assert "dim_tid AS d0" in sql and "OVER (PARTITION BY" in sql
    assert labels.keys == ("k0", "k1") and labels.measures == ("m0", "m1")
