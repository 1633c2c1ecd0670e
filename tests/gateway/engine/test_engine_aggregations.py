"""Aggregations answer exactly as the fact table does, on DuckDB and PostgreSQL, exact or protected."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import pytest
from engine_fixtures import CUBES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection, Engine

from gateway.data.aggregate import build_on
from gateway.engine.cellset import CellSet
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.model.types import Aggregation, Cube, DisclosureRule, MeasureKind
from gateway.model.view import exact_view, protected_view

LIMITS = Limits(cell_limit=100_000, timeout_seconds=10)
SECRET = b"aggregation test secret"

UKRAINE_MEASURES = ("Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede", "Nettoindvandring", "Nettotilvækst",
                    "Akkumuleret tilvækst", "Hændelser")
UKRAINE_RULE = DisclosureRule(record_key=("dato", "aldersgruppe", "koen", "aegtefaelle", "fra_kommune", "til_kommune"),
                              distinct=False, threshold=3, max_noise=2)
UKRAINE = dataclasses.replace(
    CUBES[0],
    disclosure=UKRAINE_RULE,
    aggregations=(
        Aggregation("maaned_alder_koen", (("Tid", "Måned"), ("Aldersgruppe", "Aldersgruppe"), ("Køn", "Køn")),
                    UKRAINE_MEASURES, UKRAINE_RULE),
        Aggregation("til_koen", (("Til kommune", "Kommune"), ("Køn", "Køn")), ("Hændelser", "Indrejste"), UKRAINE_RULE),
    ),
)
VH_MEASURES = ("Helårsmodtagere", "Unikke modtagere", "Ydelsesrækker", "Modtagne dage", "Gennemsnitlige dage",
               "Færreste dage", "Flest dage")
VH = dataclasses.replace(
    CUBES[1],
    aggregations=(
        Aggregation("maaned_ydelse", (("Periode", "Måned"), ("Ydelse", "Ydelse")), VH_MEASURES),
        Aggregation("aar", (("Periode", "År"),), ("Unikke modtagere", "Ydelsesrækker")),
    ),
)
# Voksenhandicap under a distinct rule (one contributor per person): only protectable measures.
VH_RULE = DisclosureRule(record_key=("cpr",), distinct=True, threshold=3, max_noise=2)
VH_PROTECTED = dataclasses.replace(
    VH,
    name="Voksenhandicap beskyttet",
    measures=tuple(m for m in VH.measures if m.kind not in {MeasureKind.AVG, MeasureKind.MIN, MeasureKind.MAX}),
    disclosure=VH_RULE,
    aggregations=(Aggregation("beskyttet", (("Periode", "Måned"), ("Ydelse", "Ydelse")),
                              ("Helårsmodtagere", "Unikke modtagere", "Ydelsesrækker"), VH_RULE),),
)
WITH = (UKRAINE, VH, VH_PROTECTED)
WITHOUT = tuple(dataclasses.replace(c, aggregations=()) for c in WITH)

UKRAINE_LEVELS = ["[Tid].[År]", "[Tid].[Kvartal]", "[Tid].[Måned]", "[Aldersgruppe].[Aldersgruppe]", "[Køn].[Køn]",
                  "[Til kommune].[Kommune]", "[Tid].[Dag]"]
UKRAINE_SLICERS = ["[Køn].[Køn].&[K]", "[Aldersgruppe].[Aldersgruppe].&[voksen]", "[Tid].[Tid].[Kvartal].&[2022-K1]",
                   "[Tid].[Tid].[Måned].&[2022-03]", "[Til kommune].[Til kommune].[Kommune].&[101]"]
VH_LEVELS = ["[Periode].[År]", "[Periode].[Måned]", "[Ydelse].[Ydelse]"]
VH_SLICERS = ["[Periode].[Periode].[Måned].&[2022-02]", "[Ydelse].[Ydelse].&[1.8]", "[Periode].[Periode].[År].&[2022]"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def built(duck_engine: Engine, pg_engine: Engine) -> dict[str, Engine]:
    for engine in (duck_engine, pg_engine):
        with engine.begin() as connection:
            build_on(connection, WITH[:2])  # VH_PROTECTED's table too: same fact table, its own name
            build_on(connection, WITH[2:])
    return {"duckdb": duck_engine, "postgresql": pg_engine}


@pytest.fixture(params=["duckdb", "postgresql"])
def cube_db(request: pytest.FixtureRequest, built: dict[str, Engine]) -> Iterator[Connection]:
    with built[request.param].connect() as connection:
        yield connection


def _answers(db: Connection, cubes: tuple[Cube, ...], query: CubeQuery) -> list[tuple]:
    cells: CellSet = run_query(db, cubes, query, limits=LIMITS)
    return list(cells.to_rowset().rows)


def _same(left: list[tuple], right: list[tuple]) -> bool:
    """Equal rows; doubles equal up to the order in which the database added them."""
    if len(left) != len(right):
        return False
    for a, b in zip(left, right):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if x is None or y is None or not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def _query(draw: st.DrawFn, cube: str, measures: tuple[str, ...], levels: list[str], slicers: list[str]) -> CubeQuery:
    chosen = draw(st.lists(st.sampled_from(measures), min_size=1, max_size=3, unique=True))
    rows = draw(st.lists(st.sampled_from(levels), max_size=2, unique_by=lambda lv: lv.split("]")[0]))
    sliced = draw(st.lists(st.sampled_from(slicers), max_size=2, unique=True))
    excluded = draw(st.lists(st.sampled_from(slicers), max_size=1))  # "<> member", as in the VH seed
    return CubeQuery(cube, tuple(chosen), rows=tuple(LevelItem(r) for r in rows), slicers=tuple(sliced),
                     exclude_slicers=tuple(excluded), non_empty=draw(st.booleans()))


@st.composite
def queries(draw: st.DrawFn) -> CubeQuery:
    which = draw(st.sampled_from(["Ukraine", "Voksenhandicap", "Voksenhandicap beskyttet"]))
    if which == "Ukraine":
        return _query(draw, which, UKRAINE_MEASURES, UKRAINE_LEVELS, UKRAINE_SLICERS)
    measures = VH_MEASURES if which == "Voksenhandicap" else VH_PROTECTED.aggregations[0].measures
    return _query(draw, which, measures, VH_LEVELS, VH_SLICERS)


@pytest.mark.postgres
@SETTINGS
@given(query=queries(), protected=st.booleans())
def test_an_answer_from_an_aggregation_equals_the_answer_from_the_fact_table(
    cube_db: Connection, query: CubeQuery, protected: bool
) -> None:
    def view(cubes: tuple[Cube, ...]) -> tuple[Cube, ...]:
        exact = tuple(dataclasses.replace(c, disclosure=None) if c.name != VH_PROTECTED.name else c for c in cubes)
        if not protected:
            return tuple(c if c.name != VH_PROTECTED.name else protected_view(c, SECRET) for c in exact)
        return tuple(protected_view(c, SECRET) if c.disclosure is not None or c.name == VH_PROTECTED.name else c
                     for c in cubes)

    from_aggregations = _answers(cube_db, view(WITH), query)
    from_fact = _answers(cube_db, view(WITHOUT), query)
    assert _same(from_aggregations, from_fact), (from_aggregations, from_fact)


def _chosen(db: Connection, cube: Cube, query: CubeQuery) -> str | None:
    plan = plan_query(db, (cube,), query, cell_limit=100_000)
    return None if plan.aggregation is None else plan.aggregation.aggregation.name


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("cube", "measures", "rows", "slicers", "expected"),
    [
        # coarser than the grain: rolled up from the smallest aggregation that holds it
        (UKRAINE, ("Indrejste",), ("[Tid].[År]",), (), "maaned_alder_koen"),
        (UKRAINE, ("Hændelser",), ("[Køn].[Køn]",), (), "til_koen"),
        (UKRAINE, ("Akkumuleret tilvækst",), ("[Tid].[Måned]",), ("[Køn].[Køn].&[K]",), "maaned_alder_koen"),
        # finer than any grain, or a measure no aggregation holds: the fact table
        (UKRAINE, ("Indrejste",), ("[Tid].[Dag]",), (), None),
        (UKRAINE, ("Udrejste",), ("[Til kommune].[Kommune]",), (), None),
        # a distinct count only at exactly an aggregation's grain, never by adding
        (VH, ("Unikke modtagere",), ("[Periode].[År]",), (), "aar"),
        (VH, ("Unikke modtagere",), ("[Periode].[Måned]", "[Ydelse].[Ydelse]"), (), "maaned_ydelse"),
        (VH, ("Unikke modtagere",), ("[Ydelse].[Ydelse]",), (), None),
        (VH, ("Ydelsesrækker",), ("[Ydelse].[Ydelse]",), (), "maaned_ydelse"),
        # a distinct disclosure rule: its cell key does not add up either
        (protected_view(VH_PROTECTED, SECRET), ("Ydelsesrækker",), ("[Ydelse].[Ydelse]",), (), None),
        (protected_view(VH_PROTECTED, SECRET), ("Ydelsesrækker",), ("[Periode].[Måned]", "[Ydelse].[Ydelse]"), (),
         "beskyttet"),
        # one table serves every view: the exact view of a protected cube reads it too
        (exact_view(UKRAINE), ("Indrejste",), ("[Tid].[År]",), (), "maaned_alder_koen"),
        (protected_view(UKRAINE, SECRET), ("Indrejste",), ("[Tid].[År]",), (), "maaned_alder_koen"),
        (exact_view(VH_PROTECTED), ("Ydelsesrækker",), ("[Ydelse].[Ydelse]",), (), "beskyttet"),
    ],
)
def test_the_planner_chooses_an_aggregation_only_where_it_answers_exactly(
    cube_db: Connection, cube: Cube, measures: tuple[str, ...], rows: tuple[str, ...], slicers: tuple[str, ...],
    expected: str | None,
) -> None:
    query = CubeQuery(cube.name, measures, rows=tuple(LevelItem(r) for r in rows), slicers=slicers)
    assert _chosen(cube_db, cube, query) == expected


@pytest.mark.postgres
def test_an_exclusion_counts_like_a_slicer_on_its_level_when_choosing(cube_db: Connection) -> None:
    """``<> 'K'`` on Køn needs a table holding Køn, exactly as a slicer on Køn would."""
    by_age = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),))
    without_women = dataclasses.replace(by_age, exclude_slicers=("[Køn].[Køn].&[K]",))
    only_women = dataclasses.replace(by_age, slicers=("[Køn].[Køn].&[K]",))
    not_in_march = dataclasses.replace(by_age, exclude_slicers=("[Tid].[Tid].[Måned].&[2022-03]",))
    assert _chosen(cube_db, UKRAINE, without_women) == _chosen(cube_db, UKRAINE, only_women) == "maaned_alder_koen"
    assert _chosen(cube_db, UKRAINE, not_in_march) == "maaned_alder_koen"
    by_kommune = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Til kommune].[Kommune]"),))
    assert _chosen(cube_db, UKRAINE, by_kommune) == "til_koen"
    outside_march = dataclasses.replace(by_kommune, exclude_slicers=("[Tid].[Tid].[Måned].&[2022-03]",))
    assert _chosen(cube_db, UKRAINE, outside_march) is None  # til_koen holds no Tid: the fact table answers


def test_an_aggregation_missing_from_the_version_is_not_used(duck: Connection) -> None:
    """After a model change the table name's digest changes: until the next load, the fact table answers."""
    renamed = dataclasses.replace(UKRAINE, aggregations=(Aggregation("ikke_bygget", (("Køn", "Køn"),), ("Indrejste",)),))
    query = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Køn].[Køn]"),))
    assert _chosen(duck, renamed, query) is None


def test_a_plan_derived_from_another_does_not_read_an_aggregation_that_cannot_answer_it(cube_db: Connection) -> None:
    """A totals grain made by dropping an axis from a plan keeps its aggregation field: the
    compiler checks again, so a distinct count is never added up across the dropped level."""
    from gateway.engine.compile import compile_plan

    query = CubeQuery("Voksenhandicap", ("Unikke modtagere",),
                      rows=(LevelItem("[Periode].[Måned]"), LevelItem("[Ydelse].[Ydelse]")))
    plan = plan_query(cube_db, (VH,), query, cell_limit=100_000)
    assert plan.aggregation is not None
    total = dataclasses.replace(plan, rows=plan.rows[:1])  # per month, over every ydelse
    statement, _ = compile_plan(total)
    assert plan.aggregation.table_name not in str(statement.compile(dialect=cube_db.dialect))
    rows = {r[0]: r[1] for r in cube_db.execute(statement)}
    fact = compile_plan(dataclasses.replace(total, aggregation=None))[0]
    assert rows == {r[0]: r[1] for r in cube_db.execute(fact)}


@pytest.mark.parametrize(
    ("cube", "measures", "rows", "table"),
    [
        (protected_view(UKRAINE, SECRET), ("Indrejste", "Nettoindvandring"), ("[Tid].[År]",), "maaned_alder_koen"),
        (protected_view(VH_PROTECTED, SECRET), ("Unikke modtagere",), ("[Periode].[Måned]", "[Ydelse].[Ydelse]"),
         "beskyttet"),
    ],
)
def test_a_protected_answer_is_read_from_the_aggregation_with_its_stored_cell_keys(
    cube_db: Connection, cube: Cube, measures: tuple[str, ...], rows: tuple[str, ...], table: str
) -> None:
    """The statement a protected view runs (the plan widened by the cell key and contributors)
    reads the aggregation table, whose stored cell keys and contributor counts it was built
    with; the equivalence property above then compares two real paths, not the fact table twice."""
    from gateway.engine.compile import compile_plan
    from gateway.engine.disclosure import Protection

    query = CubeQuery(cube.name, measures, rows=tuple(LevelItem(r) for r in rows))
    plan = plan_query(cube_db, (cube,), query, cell_limit=100_000)
    protection = Protection.for_plan(plan)
    assert protection is not None and plan.aggregation is not None
    sql = str(compile_plan(protection.widened)[0].compile(dialect=cube_db.dialect))
    assert plan.aggregation.table_name.startswith(f"agg_{table}_") and plan.aggregation.table_name in sql
