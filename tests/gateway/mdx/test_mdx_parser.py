"""The MDX parser: what Excel and Power BI send parses; anything else is a clear, located error."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import UserError
from gateway.mdx import ast
from gateway.mdx.errors import MdxSyntaxError, MdxUnsupportedError
from gateway.mdx.parser import MAX_DEPTH, MAX_TEXT_LENGTH, parse_expression, parse_query
from tests.gateway.mdx.excel_queries import ALL_SHAPES, FIRST_PIVOT


@pytest.mark.parametrize("name", sorted(ALL_SHAPES))
def test_client_shaped_statements_parse(name: str) -> None:
    select = parse_query(ALL_SHAPES[name])
    assert select.cube_name.segments[0].text == "Ukraine"
    assert select.axes


def test_first_pivot_has_its_parts() -> None:
    select = parse_query(FIRST_PIVOT)
    (axis,) = select.axes
    assert axis.ordinal == 0 and axis.non_empty
    assert axis.properties == ("PARENT_UNIQUE_NAME", "HIERARCHY_UNIQUE_NAME")
    assert isinstance(axis.expression, ast.Call) and axis.expression.function == "Hierarchize"
    assert select.cell_properties == ("VALUE", "FORMAT_STRING", "LANGUAGE", "BACK_COLOR", "FORE_COLOR", "FONT_FLAGS")
    assert isinstance(select.where, ast.Name)
    assert [s.text for s in select.where.segments] == ["Measures", "Indrejste"]


def test_keywords_are_case_insensitive_and_comments_are_ignored() -> None:
    text = """-- a line comment
    select non   empty {[Measures].[Indrejste]} on columns, /* block
    comment */ [Køn].[Køn].[Køn].members dimension properties parent_unique_name on rows
    from [Ukraine] // trailing
    where ([Tid].[Tid].[År].&[2022])"""
    select = parse_query(text)
    assert [a.ordinal for a in select.axes] == [0, 1]
    assert select.axes[1].properties == ("PARENT_UNIQUE_NAME",)


def test_axis_numbers_and_axis_function() -> None:
    select = parse_query("SELECT {[a]} ON 1, {[b]} ON AXIS(0) FROM [c]")
    assert [a.ordinal for a in select.axes] == [0, 1]
    assert select.axes[0].expression == ast.SetLiteral((ast.Name((ast.Segment("b", quoted=True),)),), 2)


def test_quoted_names_keys_and_danish_letters() -> None:
    expression = parse_expression("[Fra]]kommune].[Æ ø å].&[a]]b]")
    assert isinstance(expression, ast.Name)
    assert expression.segments == (
        ast.Segment("Fra]kommune", quoted=True),
        ast.Segment("Æ ø å", quoted=True),
        ast.Segment("a]b", key=True),
    )
    assert expression.source() == "[Fra]]kommune].[Æ ø å].&[a]]b]"


def test_with_definitions_quoted_as_excel_writes_them() -> None:
    select = parse_query(
        "WITH SET [XL_Row_Dim_0] AS 'VisualTotals(Distinct(Hierarchize({Ascendants([Tid].[Tid].[Måned].&[2022-01])})))'"
        " MEMBER [Measures].[Netto] AS '[Measures].[Indrejste] - [Measures].[Udrejste]', FORMAT_STRING = \"#,##0\""
        " SELECT [XL_Row_Dim_0] ON 0 FROM [Ukraine]"
    )
    (named,) = select.sets
    assert isinstance(named.expression, ast.Call) and named.expression.function == "VisualTotals"
    (member,) = select.members
    assert isinstance(member.expression, ast.Binary) and member.expression.op == "-"
    assert member.properties[0][0] == "FORMAT_STRING"


def test_omitted_arguments_are_kept_in_place() -> None:
    call = parse_expression("DrilldownLevel({[a]}, , 0)")
    assert isinstance(call, ast.Call) and call.args[1] is None and call.args[2] == ast.Number(0)


def test_subselects_nest() -> None:
    select = parse_query(ALL_SHAPES["subtotals"])
    assert isinstance(select.source, ast.Select) and isinstance(select.source.source, ast.Select)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("SELECT {[a]} ON 0 FROM", "line 1, column 23"),
        ("SELECT {[a]} ON 0\nFROM [c] WHERE ([x]", "line 2, column 20"),
        ("SELECT {[a] ON 0 FROM [c]", "line 1, column 13"),
        ("SELECT {[a]} ON 0 FROM [c] ORDER BY 1", "line 1, column 28"),
        ("SELECT\n  {[a]} ON 0 FROM [c] ^", "line 2, column 23"),
        ("SELECT {[a]} ON 0 FROM [c", "line 1, column 24"),
    ],
)
def test_syntax_errors_name_line_and_column(text: str, where: str) -> None:
    with pytest.raises(MdxSyntaxError) as raised:
        parse_query(text)
    assert where in str(raised.value)
    assert raised.value.code == "MDX_SYNTAX_ERROR"


def test_axes_must_be_numbered_without_gaps() -> None:
    with pytest.raises(MdxSyntaxError, match="numbered from 0"):
        parse_query("SELECT {[a]} ON ROWS FROM [c]")


def test_more_axes_than_supported_are_named() -> None:
    with pytest.raises(MdxUnsupportedError, match="AXIS\\(3\\)"):
        parse_query("SELECT {[a]} ON 0, {[b]} ON 1, {[c]} ON 2, {[d]} ON 3 FROM [c]")


def test_empty_and_oversized_text() -> None:
    with pytest.raises(MdxSyntaxError, match="empty"):
        parse_query("   ")
    with pytest.raises(MdxSyntaxError, match="longer than"):
        parse_query("SELECT {" + "[a]," * (MAX_TEXT_LENGTH // 4) + "[a]} ON 0 FROM [c]")


@pytest.mark.parametrize("opening", ["{", "Hierarchize(", "- ", "NOT "])
def test_deep_nesting_is_refused_quickly_without_recursion(opening: str) -> None:
    closing = {"{": "}", "Hierarchize(": ")", "- ": "", "NOT ": ""}[opening]
    depth = 15_000
    text = "SELECT " + opening * depth + "[a]" + closing * depth + " ON 0 FROM [c]"
    started = time.monotonic()
    with pytest.raises(MdxSyntaxError, match=f"more than {MAX_DEPTH} levels"):
        parse_query(text)
    assert time.monotonic() - started < 10


def test_redundant_parentheses_collapse_without_recursion() -> None:
    depth = 50_000
    started = time.monotonic()
    select = parse_query("SELECT " + "(" * depth + "{[a]}" + ")" * depth + " ON 0 FROM [c]")
    assert select.axes[0].expression == ast.SetLiteral((ast.Name((ast.Segment("a", quoted=True),)),), 2)
    assert time.monotonic() - started < 10


def test_a_large_flat_statement_parses_in_bounded_time_and_memory() -> None:
    members = ", ".join(f"[Tid].[Tid].[Dag].&[2022-01-{day % 28 + 1:02d}]" for day in range(5000))
    text = f"SELECT {{{members}}} ON 0 FROM [Ukraine]"
    tracemalloc.start()
    started = time.monotonic()
    try:
        select = parse_query(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(select.axes[0].expression.items) == 5000  # type: ignore[union-attr]
    assert time.monotonic() - started < 10
    assert peak < 200 * 1024 * 1024


MDX_WORDS = ["SELECT", "FROM", "WHERE", "ON", "COLUMNS", "ROWS", "NON EMPTY", "WITH", "SET", "MEMBER", "AS",
             "{", "}", "(", ")", ",", ".", "[Tid]", "[Køn].[Køn].&[K]", "&[", "]", "'", '"', "Members", "*", ":",
             "-", "CrossJoin(", "DIMENSION PROPERTIES", "CELL PROPERTIES", "0", "1.5", "--", "/*", "*/", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MDX_WORDS), max_size=40).map(" ".join))
def test_token_soup_gives_only_clear_errors(text: str) -> None:
    try:
        parse_query(text)
    except UserError as error:
        assert str(error)
        assert error.code in ("MDX_SYNTAX_ERROR", "MDX_UNSUPPORTED", "INVALID_QUERY")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_only_clear_errors(text: str) -> None:
    try:
        parse_query(text)
    except UserError as error:
        assert str(error)
