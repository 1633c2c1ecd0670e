"""The query suite: hand-counted answers, each run on DuckDB and on PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import pytest
from engine_fixtures import CUBES
from sqlalchemy.engine import Connection

from gateway.engine.cellset import CellSet
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem, Order
from gateway.errors import NotFoundError
from gateway.model.types import Cube
from gateway.model.view import exact_view, protected_view

LIMITS = Limits(cell_limit=10_000, timeout_seconds=10)
MARCH = "[Tid].[Tid].[Måned].&[2022-03]"
APRIL = "[Tid].[Tid].[Måned].&[2022-04]"


def run(db: Connection, query: CubeQuery, *, cubes: tuple[Cube, ...] = tuple(CUBES)) -> CellSet:
    return run_query(db, cubes, query, limits=LIMITS)


def table(cells: CellSet) -> list[tuple]:
    return list(cells.to_rowset().rows)


def test_sum_and_calculated_measures_by_month(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Indrejste", "Udrejste", "Nettoindvandring", "Nettotilvækst"),
                               rows=(LevelItem("[Tid].[Måned]"),)))
    assert table(result) == [
        ("januar 2022", 3, 0, 3, 3),
        ("februar 2022", 1, 1, 0, 1),
        ("marts 2022", 2, 0, 2, 1),
        ("april 2022", 0, 1, -1, -1),
    ]


def test_count_measure_and_cell_ordinals_are_row_major(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Hændelser", "Indrejste"), rows=(LevelItem("[Køn].[Køn]"),)))
    assert [m.members[0].unique_name for m in result.axes[0].tuples] == ["[Measures].[Hændelser]",
                                                                          "[Measures].[Indrejste]"]
    assert [t.members[0].unique_name for t in result.axes[1].tuples] == ["[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]"]
    assert [(c.ordinal, c.value) for c in result.cells] == [(0, 5), (1, 3), (2, 5), (3, 3)]
    assert result.cell(column=1, row=1).value == 3


def test_members_carry_names_level_and_depth(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Indrejste",), rows=(MemberSetItem((MARCH,)),)))
    member = result.axes[1].tuples[0].members[0]
    assert (member.unique_name, member.caption, member.level_unique_name, member.level_depth, member.key) == (
        MARCH, "marts 2022", "[Tid].[Tid].[Måned]", 2, "2022-03")


def test_level_order_column_is_used_and_can_be_reversed(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),))
    assert table(run(db, query)) == [("0-17 år", 2), ("18-64 år", 4), ("65+ år", 0)]
    reverse = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),),
                        order=(Order("[Aldersgruppe].[Aldersgruppe].[Aldersgruppe]", descending=True),))
    assert [r[0] for r in table(run(db, reverse))] == ["65+ år", "18-64 år", "0-17 år"]


def test_order_by_measure_then_limit_and_offset_page_the_rows(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Indrejste",), rows=(LevelItem("[Tid].[Dag]"),), non_empty=True,
                      order=(Order("[Measures].[Indrejste]", descending=True),), limit=2, offset=1)
    rows = table(run(db, query))
    # six days with one arrival each, four with none; stable sort keeps day order among equals
    assert rows == [("10. januar 2022", 1), ("20. januar 2022", 1)]


def test_non_empty_drops_rows_and_columns_with_only_empty_cells(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Tilflyttede",), columns=(LevelItem("[Køn].[Køn]"),),
                      rows=(LevelItem("[Tid].[Måned]"),), non_empty=True)
    result = run(db, query)
    assert [t.members[0].key for t in result.axes[0].tuples] == ["K", "M"]  # zeros are values, not empty
    assert table(result) == [("januar 2022", 0, 0), ("februar 2022", 0, 1), ("marts 2022", 0, 0),
                             ("april 2022", 0, None)]  # no event for men in April: empty, not 0
    april = run(db, CubeQuery("Ukraine", ("Tilflyttede",), columns=(LevelItem("[Køn].[Køn]"),),
                              rows=(LevelItem("[Tid].[Måned]"),), slicers=(APRIL,), non_empty=True))
    assert [t.members[0].key for t in april.axes[0].tuples] == ["K"]
    assert table(april) == [("april 2022", 0)]
    dropped = run(db, CubeQuery("Voksenhandicap", ("Modtagne dage",), rows=(LevelItem("[Ydelse].[Ydelse]"),),
                                slicers=("[Periode].[Periode].[Måned].&[2022-01]",), non_empty=True))
    assert table(dropped) == [("Længerevarende botilbud (§108)", 31)]
    empty_kept = run(db, CubeQuery("Voksenhandicap", ("Modtagne dage",), rows=(LevelItem("[Ydelse].[Ydelse]"),),
                                   slicers=("[Periode].[Periode].[Måned].&[2022-01]",)))
    assert table(empty_kept) == [("Længerevarende botilbud (§108)", 31),
                                 ("Beskyttet beskæftigelse (§103)", None),
                                 ("Aktivitets- og samværstilbud (§104)", None)]


def test_slicers_or_within_a_level_and_across_levels(db: Connection) -> None:
    both_months = run(db, CubeQuery("Ukraine", ("Indrejste",), slicers=(MARCH, "[Tid].[Tid].[Måned].&[2022-01]")))
    assert table(both_months) == [(5,)]
    and_sex = run(db, CubeQuery("Ukraine", ("Indrejste",), slicers=(MARCH, "[Tid].[Tid].[Måned].&[2022-01]",
                                                                    "[Køn].[Køn].&[M]")))
    assert table(and_sex) == [(3,)]


def test_role_playing_dimensions_join_the_same_table_independently(db: Connection) -> None:
    query = CubeQuery("Ukraine", ("Indrejste", "Tilflyttede", "Fraflyttede"),
                      rows=(LevelItem("[Fra kommune].[Fra kommune].[Kommune]"),
                            LevelItem("[Til kommune].[Til kommune].[Region]")), non_empty=True)
    assert table(run(db, query)) == [
        ("København", "Midtjylland", 0, 0, 1),
        ("København", "Udlandet", 0, 0, 0),
        ("Frederiksberg", "Hovedstaden", 0, 1, 0),
        ("Udlandet", "Hovedstaden", 6, 0, 0),
    ]


def test_helaarsmodtagere_worked_example_counts_days_inclusively(db: Connection) -> None:
    """Seed 003: to 31 March, A from 15 March (17 days), B all period (90 of 90 days)."""
    result = run(db, CubeQuery("Voksenhandicap", ("Helårsmodtagere",), slicers=("[Ydelse].[Ydelse].&[1.8]",)))
    assert result.cells[0].value == pytest.approx(107 / 90)
    assert result.cells[0].formatted_value == "1,19"
    by_month = run(db, CubeQuery("Voksenhandicap", ("Helårsmodtagere",), rows=(LevelItem("[Periode].[Måned]"),),
                                 slicers=("[Ydelse].[Ydelse].&[1.8]",)))
    assert [r[1] for r in table(by_month)] == [pytest.approx(1.0), pytest.approx(1.0), pytest.approx(48 / 31)]


def test_helaarsmodtagere_denominator_follows_the_time_slicer(db: Connection) -> None:
    result = run(db, CubeQuery("Voksenhandicap", ("Helårsmodtagere",),
                               slicers=("[Ydelse].[Ydelse].&[1.8]", "[Periode].[Periode].[Måned].&[2022-02]",
                                        "[Periode].[Periode].[Måned].&[2022-03]")))
    assert result.cells[0].value == pytest.approx((17 + 28 + 31) / 59)


def test_unikke_modtagere_are_not_additive_across_services(db: Connection) -> None:
    c_services = ("[Ydelse].[Ydelse].&[1.10]", "[Ydelse].[Ydelse].&[1.11]")
    per_service = run(db, CubeQuery("Voksenhandicap", ("Unikke modtagere", "Ydelsesrækker"),
                                    rows=(MemberSetItem(c_services),)))
    assert [r[1:] for r in table(per_service)] == [(1, 1), (1, 1)]
    together = run(db, CubeQuery("Voksenhandicap", ("Unikke modtagere", "Ydelsesrækker"), slicers=c_services))
    assert table(together) == [(1, 2)]


def test_avg_min_max_kinds(db: Connection) -> None:
    result = run(db, CubeQuery("Voksenhandicap", ("Gennemsnitlige dage", "Færreste dage", "Flest dage",
                                                  "Modtagne dage")))
    assert table(result) == [(pytest.approx(149 / 6), 14, 31, 149)]
    assert result.cells[0].formatted_value == "24,8"


def test_ratio_per_10000_and_zero_denominator_is_empty(db: Connection) -> None:
    result = run(db, CubeQuery("Borger", ("Fødte pr. 10.000 indbyggere", "Fødte pr. indbygger", "Fødte"),
                               rows=(LevelItem("[Periode].[Måned]"), LevelItem("[Køn].[Køn]"))))
    rows = table(result)
    assert rows[0][:3] == ("januar 2022", "Kvinde", pytest.approx(1.5))
    assert rows[3] == ("februar 2022", "Mand", None, None, 4)  # 0 inhabitants: no error, an empty cell
    assert rows[4] == ("marts 2022", "Kvinde", None, None, None)
    total = run(db, CubeQuery("Borger", ("Fødte pr. 10.000 indbyggere",)))
    assert total.cells[0].value == pytest.approx(10 / 60000 * 10000)
    assert total.cells[0].formatted_value == "1,7"


def test_running_total_by_month(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Nettotilvækst", "Akkumuleret tilvækst"), rows=(LevelItem("[Tid].[Måned]"),)))
    assert table(result) == [("januar 2022", 3, 3), ("februar 2022", 1, 4), ("marts 2022", 1, 5),
                             ("april 2022", -1, 4)]


def test_running_total_counts_from_the_start_when_time_is_restricted(db: Connection) -> None:
    member_set = run(db, CubeQuery("Ukraine", ("Akkumuleret tilvækst",), rows=(MemberSetItem((APRIL, MARCH)),)))
    assert table(member_set) == [("marts 2022", 5), ("april 2022", 4)]  # explicit sets follow level order
    sliced = run(db, CubeQuery("Ukraine", ("Nettotilvækst", "Akkumuleret tilvækst"), rows=(LevelItem("[Tid].[Måned]"),),
                               slicers=("[Tid].[Tid].[Kvartal].&[2022-K2]",)))
    assert table(sliced) == [("april 2022", -1, 4)]


def test_running_total_is_partitioned_and_carried_over_months_without_data(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Akkumuleret tilvækst",), columns=(LevelItem("[Tid].[Måned]"),),
                               rows=(LevelItem("[Køn].[Køn]"),)))
    assert table(result) == [("Kvinde", 2, 3, 2, 1), ("Mand", 1, 1, 3, 3)]


def test_running_total_without_time_on_axis_runs_to_the_end_of_the_slicer(db: Connection) -> None:
    to_february = run(db, CubeQuery("Ukraine", ("Akkumuleret tilvækst", "Nettotilvækst"),
                                    rows=(LevelItem("[Køn].[Køn]"),),
                                    slicers=("[Tid].[Tid].[Måned].&[2022-02]",)))
    assert table(to_february) == [("Kvinde", 3, 1), ("Mand", 1, 0)]
    everything = run(db, CubeQuery("Ukraine", ("Akkumuleret tilvækst",)))
    assert table(everything) == [(4,)]


def test_data_as_of_is_passed_through(db: Connection) -> None:
    import datetime as dt

    result = run_query(db, CUBES, CubeQuery("Ukraine", ("Indrejste",)), limits=LIMITS,
                       data_as_of=dt.date(2022, 4, 30))
    assert result.data_as_of == dt.date(2022, 4, 30)
    assert result.to_rowset().data_as_of == dt.date(2022, 4, 30)


def test_rowset_columns_name_row_levels_and_column_tuples(db: Connection) -> None:
    result = run(db, CubeQuery("Ukraine", ("Indrejste",), columns=(LevelItem("[Køn].[Køn]"),),
                               rows=(LevelItem("[Ægtefælle].[Ægtefælle]"),)))
    rowset = result.to_rowset()
    assert [(c.name, c.unique_name) for c in rowset.columns] == [
        ("Ægtefælle", "[Ægtefælle].[Ægtefælle].[Ægtefælle]"),
        ("Kvinde / Indrejste", "[Køn].[Køn].&[K].[Measures].[Indrejste]"),
        ("Mand / Indrejste", "[Køn].[Køn].&[M].[Measures].[Indrejste]"),
    ]
    assert rowset.rows == (("Ja", 1, 2), ("Nej", 2, 1))


def test_individual_level_is_served_only_by_the_exact_view(db: Connection) -> None:
    query = CubeQuery("Voksenhandicap", ("Modtagne dage",), rows=(LevelItem("[Person].[Personnummer]"),))
    with pytest.raises(NotFoundError):
        run(db, query, cubes=tuple(protected_view(c, b"k") for c in CUBES))
    exact = tuple(exact_view(c) for c in CUBES)
    assert table(run(db, query, cubes=exact)) == [("0101801111", 17), ("0202802222", 90), ("0303803333", 42)]


def test_duckdb_and_postgresql_give_identical_cell_sets(duck: Connection, pg_engine) -> None:  # type: ignore[no-untyped-def]
    queries = [
        CubeQuery("Ukraine", ("Indrejste", "Nettotilvækst", "Akkumuleret tilvækst"),
                  columns=(LevelItem("[Køn].[Køn]"),), rows=(LevelItem("[Tid].[Måned]"),)),
        CubeQuery("Ukraine", ("Akkumuleret tilvækst", "Hændelser"), rows=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),),
                  slicers=(MARCH,)),
        CubeQuery("Voksenhandicap", ("Helårsmodtagere", "Unikke modtagere", "Gennemsnitlige dage"),
                  rows=(LevelItem("[Ydelse].[Ydelse]"),), columns=(LevelItem("[Periode].[Måned]"),)),
        CubeQuery("Borger", ("Fødte pr. 10.000 indbyggere", "Fødte pr. indbygger"),
                  rows=(LevelItem("[Køn].[Køn]"),), order=(Order("Fødte pr. indbygger", descending=True),)),
    ]
    with pg_engine.connect() as pg:
        for query in queries:
            assert run(duck, query) == run(pg, query)
