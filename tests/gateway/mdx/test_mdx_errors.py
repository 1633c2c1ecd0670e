"""Names the model does not hold, statements that cannot be answered and constructs this gateway
does not implement: each a client error with a stable code that says what was wrong."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from gateway.errors import LimitExceededError, NotFoundError, QueryError
from gateway.mdx.errors import MdxUnsupportedError
from tests.gateway.mdx.conftest import run_mdx_on


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukrainee]", "The cube 'Ukrainee' was not found"),
        ("SELECT {[Measures].[Nope]} ON 0 FROM [Ukraine]", "The measure '[Measures].[Nope]' was not found"),
        ("SELECT [Køn].[Køn].&[X] ON 0 FROM [Ukraine]", "The name '[Køn].[Køn].&[X]' was not found"),
        ("SELECT [Tid].[Tid].[Uge].Members ON 0 FROM [Ukraine]", "The name '[Tid].[Tid].[Uge].Members' was not found"),
        ("SELECT [Person].[Person].Members ON 0 FROM [Ukraine]", "The name '[Person].[Person].Members' was not found"),
    ],
)
def test_unknown_names_are_not_found(duck: Connection, text: str, message: str) -> None:
    with pytest.raises(NotFoundError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        run_mdx_on(duck, text)


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("SELECT StrToSet(\"[Køn].[Køn].Members\") ON 0 FROM [Ukraine]", "StrToSet"),
        ("SELECT ParallelPeriod([Tid].[Tid].[År], 1) ON 0 FROM [Ukraine]", "ParallelPeriod"),
        ("SELECT [Køn].[Køn].&[K].Properties(\"KEY\") ON 0 FROM [Ukraine]", ".Properties"),
        ("SELECT Generate([Køn].[Køn].Members, [Køn].[Køn].CurrentMember.Name, \",\") ON 0 FROM [Ukraine]", "Generate"),
        ("WITH MEMBER [Køn].[Køn].[Forskel] AS [Køn].[Køn].&[K] - [Køn].[Køn].&[M] SELECT {[Køn].[Køn].[Forskel]} ON 0"
         " FROM [Ukraine]", "WITH MEMBER"),
        ("SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine]"
         " WHERE {([Køn].[Køn].&[K], [Ægtefælle].[Ægtefælle].&[J]), ([Køn].[Køn].&[M], [Ægtefælle].[Ægtefælle].&[N])}",
         "WHERE set of tuples"),
        ("SELECT Order([Tid].[Tid].Members, [Measures].[Indrejste], DESC) ON 0 FROM [Ukraine]", "Order ASC/DESC"),
    ],
)
def test_unsupported_constructs_are_named(duck: Connection, text: str, construct: str) -> None:
    with pytest.raises(MdxUnsupportedError) as raised:
        run_mdx_on(duck, text)
    assert raised.value.construct == construct
    assert construct in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT [Køn].[Køn].Members ON 0, [Køn].[Køn].Members ON 1 FROM [Ukraine]", "used on more than one axis"),
        ("SELECT [Køn].[Køn].Members ON 0 FROM [Ukraine] WHERE ([Køn].[Køn].&[K])", "in the WHERE clause"),
        ("SELECT {[Køn].[Køn].&[K], [Measures].[Indrejste]} ON 0 FROM [Ukraine]", "same hierarchies"),
        ("SELECT CrossJoin([Køn].[Køn].Members, [Køn].[Køn].Members) ON 0 FROM [Ukraine]", "more than once"),
        ("SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine] WHERE {}", "empty set"),
        ("SELECT [Tid].[Tid].[År].&[2022] : [Tid].[Tid].[Måned].&[2022-01] ON 0 FROM [Ukraine]", "one level"),
        ("SELECT TopCount([Køn].[Køn].Members, -1) ON 0 FROM [Ukraine]", "at least 0"),
    ],
)
def test_statements_that_cannot_be_answered(duck: Connection, text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        run_mdx_on(duck, text)


def test_the_cell_limit_is_checked_before_anything_runs(duck: Connection) -> None:
    with pytest.raises(LimitExceededError, match="would return 1,920 cells; the limit is 1,000"):
        run_mdx_on(duck, "SELECT [Tid].[Tid].[Dag].Members ON 0, [Fra kommune].[Fra kommune].[Kommune].Members"
                         " * [Aldersgruppe].[Aldersgruppe].Members ON 1 FROM [Ukraine]", cell_limit=1_000)
