"""Random compositions of the supported functions over real and bogus names: every statement is
answered or refused with a clear client error (never an internal error), in bounded time."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from gateway.errors import UserError
from tests.gateway.mdx.conftest import run_mdx_on

LEAVES = [
    "[Køn].[Køn].[Køn].Members", "[Tid].[Tid].[All]", "{[Tid].[Tid].[År].&[2022]}",
    "[Tid].[Tid].[Måned].&[2022-01].Children", "[Measures].Members", "[Bogus].[X]", "[Tid].[Tid].[Måned].&[2099-01]",
    "{}", "[Tid].[Tid].[Kvartal].&[2022-K1] : [Tid].[Tid].[Kvartal].&[2022-K2]", "[Tid].[Tid].CurrentMember",
    "[Aldersgruppe].[Aldersgruppe].[All].Children", "[Fra kommune].[Fra kommune].[Region].Members",
    "[Tid].[Tid].[Måned].&[2022-02].Parent", "[Køn].[Køn].&[K]", "[Measures].[Akkumuleret tilvækst]",
    "[Tid].[Tid].Members", "[Ægtefælle].[Ægtefælle].[Nej]", "[Tid].[Tid].[Dag].&[2022-01-05]", "5", "\"text\"",
    "[Til kommune].[Til kommune].[Kommune].&[101].FirstChild", "[Tid].[Tid].[Måned].&[2022-03].Siblings",
]
FUNCTIONS = [
    "Hierarchize({0})", "Hierarchize({0}, POST)", "DrilldownLevel({0})", "DrilldownLevel({0}, , 0)",
    "DrilldownLevel({0}, [Tid].[Tid].[År])", "DrilldownMember({0}, {1})", "DrilldownMember({0}, {1}, RECURSIVE)",
    "Except({0}, {1})", "CrossJoin({0}, {1})", "{0} * {1}", "{{{0}, {1}}}", "({0}, {1})",
    "Filter({0}, [Measures].[Indrejste] > 0)", "Filter({0}, NOT IsEmpty([Measures].[Udrejste]) AND 1 < 2)",
    "TopCount({0}, 2, [Measures].[Indrejste])", "BottomCount({0}, 1, [Measures].[Hændelser])",
    "Order({0}, [Measures].[Indrejste], BDESC)", "Order({0}, [Measures].[Indrejste], ASC)", "Descendants({0})",
    "Descendants({0}, 1, SELF_AND_AFTER)", "Ascendants({0})", "VisualTotals({0})", "NonEmpty({0})", "Head({0}, 3)",
    "Tail({0})", "Distinct({0})", "Union({0}, {1})", "Intersect({0}, {1})", "AddCalculatedMembers({0})",
    "Generate({0}, {1})", "{0}.Item(0)", "{0} + {1}", "{0} - {1}", "StrToSet({0})", "NonEmptyCrossJoin({0}, {1})",
]


def expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        st.sampled_from(LEAVES),
        lambda inner: st.tuples(st.sampled_from(FUNCTIONS), inner, inner).map(lambda t: t[0].format(t[1], t[2])),
        max_leaves=6,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(columns=expressions(), rows=st.one_of(st.none(), expressions()), where=st.sampled_from(
    ["", " WHERE ([Measures].[Udrejste])", " WHERE ([Ægtefælle].[Ægtefælle].&[J])", " WHERE {[Køn].[Køn].&[K], [Køn].[Køn].&[M]}",
     " WHERE ([Bogus])"]))
def test_random_statements_answer_or_refuse_clearly(duck: Connection, columns: str, rows: str | None, where: str) -> None:
    text = f"WITH MEMBER [Measures].[Netto] AS [Measures].[Indrejste] - [Measures].[Udrejste] SELECT NON EMPTY {columns} ON 0"
    if rows is not None:
        text += f", {rows} ON 1"
    text += f" FROM [Ukraine]{where}"
    started = time.monotonic()
    try:
        result = run_mdx_on(duck, text, cell_limit=20_000)
    except UserError as error:
        assert str(error)
    else:
        assert [c.ordinal for c in result.cells] == list(range(result.cell_count))
    assert time.monotonic() - started < 20
