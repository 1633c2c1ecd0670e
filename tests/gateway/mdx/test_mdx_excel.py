"""Excel- and Power BI-shaped MDX bound against the fixture cubes, on DuckDB and PostgreSQL.

Every expected number is counted by hand from ``engine_fixtures.EVENTS`` (ten events).
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from gateway.engine.query import CubeQuery
from gateway.errors import NotFoundError, QueryError
from gateway.mdx.execute import cube_name
from gateway.mdx.parser import parse_query
from tests.gateway.mdx.conftest import RunMdx, captions, grid, run_mdx_on
from tests.gateway.mdx.excel_queries import (
    DRILL_DOWN,
    EXCEL2013_EXPAND_ALL,
    EXCEL2013_EXPAND_MEMBER,
    EXCEL2013_FILTER,
    EXCEL2013_FIRST_PIVOT,
    EXCEL2013_SHAPES,
    EXCEL_FILTER_LIST_ALL,
    EXCEL_FILTER_LIST_CHILD_COUNT,
    EXCEL_FILTER_LIST_CHILDREN,
    FILTERED_PIVOT,
    FIRST_PIVOT,
    LABEL_FILTER,
    LABEL_FILTER_BEGINS,
    POWER_BI_IMPORT,
    SUBTOTALS,
    TOP_N_FILTER,
)


def test_first_pivot_has_the_grand_total_and_each_member(mdx: RunMdx) -> None:
    result = mdx(FIRST_PIVOT)
    assert captions(result, 0) == ["All", "Kvinde", "Mand"]
    assert [c.value for c in result.cells] == [6, 3, 3]
    all_member, kvinde, _ = (t[0] for t in result.axes[0].tuples)
    assert all_member.is_all and all_member.unique_name == "[Køn].[Køn].[All]"
    assert all_member.level_unique_name == "[Køn].[Køn].[(All)]" and all_member.level_number == 0
    assert all_member.children_cardinality == 2 and all_member.drilled_down
    assert kvinde.unique_name == "[Køn].[Køn].&[K]" and kvinde.parent_unique_name == "[Køn].[Køn].[All]"
    assert kvinde.level_unique_name == "[Køn].[Køn].[Køn]" and kvinde.level_number == 1
    assert result.axes[0].properties == ("PARENT_UNIQUE_NAME", "HIERARCHY_UNIQUE_NAME")
    assert result.slicer is not None
    slicer_members = {m.hierarchy_unique_name: m.unique_name for m in result.slicer.tuples[0]}
    assert slicer_members["[Measures]"] == "[Measures].[Indrejste]"
    assert slicer_members["[Tid].[Tid]"] == "[Tid].[Tid].[All]"
    assert "[Køn].[Køn]" not in slicer_members


def test_filtered_pivot_with_subtotals(mdx: RunMdx) -> None:
    """Filter on age (voksen, barn) by subselect; totals are over the filtered rows only."""
    result = mdx(FILTERED_PIVOT)
    assert captions(result, 0) == [
        "All / Indrejste", "All / Udrejste", "Kvinde / Indrejste", "Kvinde / Udrejste", "Mand / Indrejste",
        "Mand / Udrejste",
    ]
    assert captions(result, 1) == ["All", "2022", "1. kvartal 2022", "2. kvartal 2022"]
    assert grid(result) == [
        [6, 1, 3, 1, 3, 0],
        [6, 1, 3, 1, 3, 0],
        [6, 0, 3, 0, 3, 0],
        [0, 1, 0, 1, None, None],
    ]
    assert [c.formatted_value for c in result.cells[:6]] == ["6", "1", "3", "1", "3", "0"]
    assert [c.ordinal for c in result.cells] == list(range(24))
    assert result.ordinal((3, 2)) == 15 and result.cell(4, 3).value is None  # axis 0 varies fastest
    assert result.cells[0].format_string == "#,##0"


def test_drill_down_under_a_filter_mixing_levels(mdx: RunMdx) -> None:
    """Months Jan, Feb and all of Q2 are filtered in: the year shows their visual total."""
    result = mdx(DRILL_DOWN)
    assert captions(result, 0) == ["All", "2022", "1. kvartal 2022", "2. kvartal 2022"]
    assert [c.value for c in result.cells] == [4, 4, 4, 0]
    flags = [t[0].drilled_down for t in result.axes[0].tuples]
    assert flags == [True, True, False, False]
    assert result.axes[0].tuples[1][0].children_cardinality == 2  # quarters of 2022 under the filter


def test_subtotals_of_three_crossjoined_fields(mdx: RunMdx) -> None:
    result = mdx(SUBTOTALS)
    rows = captions(result, 1)
    values = dict(zip(rows, grid(result)))
    # kept: events 1-4, 6, 7, 9, 10 (5 is aeldre, 8 moved to 751); net = 6 arrivals - 1 departure + 1 moved in
    assert values["All / All / All"] == [6, 6, 6]
    assert values["All / Kvinde / All"] == [3, 2, 2]
    assert values["All / Kvinde / Ja"] == [1, 1, 1]
    assert values["2022 / Mand / Nej"] == [1, 2, 2]
    assert rows[0] == "All / All / All"
    assert len(rows) == len(set(rows))


def test_power_bi_import_query(mdx: RunMdx) -> None:
    result = mdx(POWER_BI_IMPORT)
    assert captions(result, 0) == ["Indrejste", "Udrejste"]
    rows = dict(zip(captions(result, 1), grid(result)))
    assert rows == {
        "januar 2022 / Kvinde": [2, 0],
        "januar 2022 / Mand": [1, 0],
        "februar 2022 / Kvinde": [1, 0],
        "februar 2022 / Mand": [0, 1],
        "marts 2022 / Kvinde": [0, 0],
        "marts 2022 / Mand": [2, 0],
        "april 2022 / Kvinde": [0, 1],
    }


def test_label_filter_on_captions(mdx: RunMdx) -> None:
    """Quarters whose caption begins with "2": the second quarter (April's one departure) and its parents."""
    result = mdx(LABEL_FILTER_BEGINS.replace("\n)\n", "\n) WHERE ([Measures].[Udrejste])\n"))
    assert captions(result, 0) == ["All", "2022"]
    assert [c.value for c in result.cells] == [1, 1]


def test_a_label_filter_matching_nothing_is_a_clear_error(mdx: RunMdx) -> None:
    with pytest.raises(QueryError, match="keeps no members"):
        mdx(LABEL_FILTER)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('InStr(1, [Aldersgruppe].[Aldersgruppe].CurrentMember.member_caption, "64") > 0', ["18-64 år"]),
        ('Left([Aldersgruppe].[Aldersgruppe].CurrentMember.member_caption, 1) <> "0"', ["18-64 år", "65+ år"]),
        ('Right([Aldersgruppe].[Aldersgruppe].CurrentMember.Name, 4) = "7 år"', ["0-17 år"]),
        ('Mid(UCase([Aldersgruppe].[Aldersgruppe].CurrentMember.member_caption), 3, 3) = "+ Å"', ["65+ år"]),
        ('Len([Aldersgruppe].[Aldersgruppe].CurrentMember.UniqueName) > 0', ["0-17 år", "18-64 år", "65+ år"]),
    ],
)
def test_text_functions_of_label_filters(mdx: RunMdx, condition: str, expected: list[str]) -> None:
    result = mdx(f"SELECT Filter([Aldersgruppe].[Aldersgruppe].[Aldersgruppe].Members, ({condition})) ON 0 FROM [Ukraine]")
    assert captions(result, 0) == expected


def test_top_n_value_filter_keeps_the_highest_members_with_their_total(mdx: RunMdx) -> None:
    """Top 2 age groups by arrivals (0-17: 2, 18-64: 4, 65+: 0); the All member shows their total."""
    result = mdx(TOP_N_FILTER)
    assert captions(result, 0) == ["All", "0-17 år", "18-64 år"]
    assert [c.value for c in result.cells] == [6, 2, 4]


def test_current_outside_generate_is_a_clear_error(mdx: RunMdx) -> None:
    with pytest.raises(QueryError, match="outside a Generate"):
        mdx("SELECT {[XL_Filter_Set_0].Current} ON 0 FROM [Ukraine]")


def test_one_engine_query_per_grain(duck: Connection) -> None:
    queries: list[CubeQuery] = []
    run_mdx_on(duck, FILTERED_PIVOT, queries=queries)
    # Tid at All/År/Kvartal × Køn at All/Køn: six grains, each asked once for both measures
    assert len(queries) == 6
    # the filter keeps barn and voksen of three groups: sent as the one it leaves out
    assert all(q.slicers == () and q.exclude_slicers == ("[Aldersgruppe].[Aldersgruppe].&[aeldre]",) for q in queries)
    assert {len(q.rows) for q in queries} == {0, 1, 2}


VISUAL_TOTALS = """WITH SET [XL_Col_Dim_0] AS 'VisualTotals(Distinct(Hierarchize({Ascendants([Tid].[Tid].[Måned].&[2022-01]), Descendants([Tid].[Tid].[Måned].&[2022-01]), Ascendants([Tid].[Tid].[Måned].&[2022-03]), Descendants([Tid].[Tid].[Måned].&[2022-03])})))'
SELECT NON EMPTY Hierarchize(Intersect(AddCalculatedMembers(DrilldownMember({{DrilldownLevel({[Tid].[Tid].[All]})}}, {[Tid].[Tid].[År].&[2022]})), [XL_Col_Dim_0])) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS
FROM [Ukraine] WHERE ([Measures].[Indrejste]) CELL PROPERTIES VALUE, FORMAT_STRING"""


def test_visual_totals_show_the_total_of_what_is_selected(mdx: RunMdx) -> None:
    """Older Excel filters: parents show the total of January and March only (3 + 2 arrivals)."""
    result = mdx(VISUAL_TOTALS)
    assert captions(result, 0) == ["All", "2022", "1. kvartal 2022"]
    assert [c.value for c in result.cells] == [5, 5, 5]
    assert result.axes[0].tuples[0][0].unique_name == "[Tid].[Tid].[All]"


def test_where_set_and_calculated_measure(mdx: RunMdx) -> None:
    result = mdx(
        "WITH MEMBER [Measures].[Andel] AS '[Measures].[Indrejste] / ([Measures].[Indrejste], [Køn].[Køn].[All])',"
        " FORMAT_STRING = \"0.0%\""
        " SELECT {[Measures].[Indrejste], [Measures].[Andel]} ON 0, [Køn].[Køn].Members ON 1 FROM [Ukraine]"
        " WHERE {[Tid].[Tid].[Måned].&[2022-01], [Tid].[Tid].[Måned].&[2022-03]}"
    )
    assert grid(result) == [[5, 1.0], [2, 0.4], [3, 0.6]]
    assert [c.formatted_value for c in result.cells] == ["5", "100,0%", "2", "40,0%", "3", "60,0%"]


@pytest.mark.postgres
def test_identical_answers_on_duckdb_and_postgresql(duck: Connection, request: pytest.FixtureRequest) -> None:
    pg_engine = request.getfixturevalue("pg_engine")
    with pg_engine.connect() as pg:
        for text in (FIRST_PIVOT, FILTERED_PIVOT, DRILL_DOWN, SUBTOTALS, POWER_BI_IMPORT, VISUAL_TOTALS, TOP_N_FILTER,
                     *EXCEL2013_SHAPES.values()):
            on_duck, on_pg = run_mdx_on(duck, text), run_mdx_on(pg, text)
            assert on_duck == on_pg


def test_an_axis_emptied_by_non_empty_still_names_its_hierarchies(mdx: RunMdx) -> None:
    result = mdx("SELECT {[Measures].[Indrejste]} ON 0, NON EMPTY [Køn].[Køn].[Køn].Members ON 1"
                 " FROM [Ukraine] WHERE ([Tid].[Tid].[Måned].&[2022-04], [Aldersgruppe].[Aldersgruppe].&[aeldre])")
    assert result.axes[1].tuples == ()
    assert [h.unique_name for h in result.axes[1].hierarchies] == ["[Køn].[Køn]"]
    assert result.cells == ()


# -- Excel 2010 and later: empty optional arguments and INCLUDE_CALC_MEMBERS ----------------------
def test_excel2013_first_pivot(mdx: RunMdx) -> None:
    result = mdx(EXCEL2013_FIRST_PIVOT)
    assert captions(result, 0) == ["All", "Kvinde", "Mand"]
    assert [c.value for c in result.cells] == [6, 3, 3]
    assert result.axes[0].properties == ("PARENT_UNIQUE_NAME", "HIERARCHY_UNIQUE_NAME")
    assert result.cell_properties == ("VALUE", "FORMAT_STRING", "LANGUAGE", "BACK_COLOR", "FORE_COLOR", "FONT_FLAGS")


def test_excel2013_expand_one_member(mdx: RunMdx) -> None:
    result = mdx(EXCEL2013_EXPAND_MEMBER)
    assert captions(result, 0) == ["All", "2022", "1. kvartal 2022", "2. kvartal 2022"]
    assert [c.value for c in result.cells] == [6, 6, 6, 0]
    assert [t[0].drilled_down for t in result.axes[0].tuples] == [True, True, False, False]


def test_excel2013_expand_all_drills_the_target_hierarchy(mdx: RunMdx) -> None:
    """Every year (in the second set) is drilled at Køn, the target hierarchy; the grand total row is not."""
    result = mdx(EXCEL2013_EXPAND_ALL)
    assert captions(result, 0) == ["All", "0-17 år", "18-64 år", "65+ år"]
    assert captions(result, 1) == ["All / All", "2022 / All", "2022 / Kvinde", "2022 / Mand"]
    assert grid(result) == [[6, 2, 4, 0], [6, 2, 4, 0], [3, 1, 2, None], [3, 1, 2, 0]]


def test_excel2013_filter_with_totals_after_the_members(mdx: RunMdx) -> None:
    """Departures of voksen and barn only (one woman); POST puts the total after its members."""
    result = mdx(EXCEL2013_FILTER)
    assert captions(result, 0) == ["Kvinde", "Mand", "All"]
    assert [c.value for c in result.cells] == [1, 0, 1]


def test_drilldown_member_recursive_after_an_empty_hierarchy_argument(mdx: RunMdx) -> None:
    result = mdx("SELECT DrilldownMember({[Tid].[Tid].[All]}, {[Tid].[Tid].[All], [Tid].[Tid].[År].&[2022]},,RECURSIVE)"
                 " ON 0 FROM [Ukraine] WHERE ([Measures].[Indrejste])")
    assert captions(result, 0) == ["All", "2022", "1. kvartal 2022", "2. kvartal 2022"]
    without = mdx("SELECT DrilldownMember({[Tid].[Tid].[All]}, {[Tid].[Tid].[All], [Tid].[Tid].[År].&[2022]},,,"
                  "INCLUDE_CALC_MEMBERS) ON 0 FROM [Ukraine]")
    assert captions(without, 0) == ["All", "2022"]


def test_drilldown_level_top_keeps_the_highest_children(mdx: RunMdx) -> None:
    result = mdx("SELECT DrilldownLevelTop({[Tid].[Tid].[År].Members}, 1, , [Measures].[Indrejste], INCLUDE_CALC_MEMBERS)"
                 " ON 0 FROM [Ukraine] WHERE ([Measures].[Udrejste])")
    assert captions(result, 0) == ["2022", "1. kvartal 2022"]
    assert [c.value for c in result.cells] == [2, 1]
    first = mdx("SELECT DrilldownLevelTop({[Tid].[Tid].[All]}, 1) ON 0 FROM [Ukraine]")
    assert captions(first, 0) == ["All", "2022"]


def test_descendants_with_an_empty_level_and_a_flag(mdx: RunMdx) -> None:
    result = mdx("SELECT Descendants([Tid].[Tid].[År].&[2022], [Tid].[Tid].[Måned], SELF_AND_BEFORE) ON 0"
                 " FROM [Ukraine] WHERE ([Measures].[Indrejste])")
    assert captions(result, 0) == ["2022", "1. kvartal 2022", "januar 2022", "februar 2022", "marts 2022",
                                   "2. kvartal 2022", "april 2022"]
    leaves = mdx("SELECT Descendants([Tid].[Tid].[Kvartal].&[2022-K2], , LEAVES) ON 0 FROM [Ukraine]")
    assert len(leaves.axes[0].tuples) == 30  # the days of April


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DrilldownLevel({[Tid].[Tid].[All]},,,RECURSIVE)", "DrilldownLevel does not take the flag RECURSIVE"),
        ("DrilldownLevel({[Tid].[Tid].[All]},,,INCLUDE_CALC_MEMBERS,1)", "DrilldownLevel takes at most 4 arguments"),
        ("DrilldownMember({[Tid].[Tid].[All]},{[Tid].[Tid].[All]},,POST)", "DrilldownMember does not take the flag POST"),
        ("DrilldownMember({[Tid].[Tid].[All]},{[Tid].[Tid].[All]},[Tid].[Tid].[All])", "must be a hierarchy"),
        ("DrilldownMember({[Tid].[Tid].[All]},{[Tid].[Tid].[All]},,3)", "DrilldownMember takes a set"),
        ("Descendants([Tid].[Tid].[All],1,SELF,INCLUDE_CALC_MEMBERS)", "Descendants takes"),
    ],
)
def test_misplaced_flags_and_arguments_are_clear_errors(mdx: RunMdx, text: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        mdx(f"SELECT {text} ON 0 FROM [Ukraine]")
    assert message in str(raised.value)


def test_from_may_name_the_opened_database() -> None:
    select = parse_query("SELECT {[Measures].[Indrejste]} ON 0 FROM [FLIS Ukraine-101].[Ukraine]")
    assert cube_name(select, "flis ukraine-101") == "Ukraine"
    with pytest.raises(NotFoundError):
        cube_name(select, "FLIS Ukraine-147")
    with pytest.raises(NotFoundError):
        cube_name(parse_query("SELECT FROM [a].[b].[Ukraine]"), "a")


def test_excel_filter_list_reads_the_all_level_and_the_all_members_children(mdx: RunMdx) -> None:
    everything = mdx(EXCEL_FILTER_LIST_ALL)
    assert [t[0].unique_name for t in everything.axes[0].tuples] == ["[Køn].[Køn].[All]"]
    assert everything.axes[0].properties == ("MEMBER_TYPE",) and everything.cell_properties == ("CELL_ORDINAL",)
    children = mdx(EXCEL_FILTER_LIST_CHILDREN)
    assert captions(children, 0) == ["Kvinde", "Mand"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{[Køn].[Køn].[(All)].[All]}", ["All"]),
        ("[Køn].[Køn].[All].Level.Members", ["All"]),
        ("[Køn].[Køn].[(All)].Hierarchy.Members", ["All", "Kvinde", "Mand"]),
        ("DrilldownLevel({[Køn].[Køn].[All]}, [Køn].[Køn].[(All)],,INCLUDE_CALC_MEMBERS)", ["All", "Kvinde", "Mand"]),
    ],
)
def test_the_all_level_can_be_named(mdx: RunMdx, text: str, expected: list[str]) -> None:
    assert captions(mdx(f"SELECT {text} ON 0 FROM [Ukraine]"), 0) == expected


def test_excel_filter_list_counts_the_children_of_each_ancestor(mdx: RunMdx) -> None:
    """Generate runs Ascendants once per month searched for; .Count counts each member's children."""
    result = mdx(EXCEL_FILTER_LIST_CHILD_COUNT)
    assert captions(result, 0) == ["All", "2022", "1. kvartal 2022", "februar 2022", "marts 2022"]
    assert captions(result, 1) == ["cChildren"]
    assert [c.value for c in result.cells] == [1, 2, 3, 28, 31]


def test_generate_keeps_duplicates_only_with_all(mdx: RunMdx) -> None:
    text = "SELECT Generate({[Køn].[Køn].&[K], [Køn].[Køn].&[M]}, {[Køn].[Køn].[All]}{flag}) ON 0 FROM [Ukraine]"
    assert captions(mdx(text.replace("{flag}", "")), 0) == ["All"]
    assert captions(mdx(text.replace("{flag}", ", ALL")), 0) == ["All", "All"]
