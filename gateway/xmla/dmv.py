"""The DMV form of Discover that Power BI and DAX Studio send as an Execute statement:

    SELECT [CATALOG_NAME], [CUBE_NAME] FROM $system.MDSCHEMA_CUBES WHERE CUBE_SOURCE = 1 ORDER BY CUBE_NAME

parsed by a small lark grammar into the rowset, the columns, the equality conditions (which
become Discover restrictions) and the order.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Lark, Token, Transformer, UnexpectedInput
from lark.exceptions import VisitError

from gateway.xmla.soap import XmlaClientError

_GRAMMAR = r"""
    start: "SELECT"i columns "FROM"i SYSTEM "." NAME where? order? ";"?
    columns: "*" -> all_columns
           | column ("," column)*
    column: NAME | BRACKETED
    where: "WHERE"i condition ("AND"i condition)*
    condition: column "=" literal
    literal: STRING -> string
           | NUMBER -> number
    order: "ORDER"i "BY"i ordering ("," ordering)*
    ordering: column DIRECTION?
    DIRECTION: /ASC|DESC/i
    SYSTEM: /\$system/i
    NAME: /[A-Za-z_][A-Za-z0-9_]*/
    BRACKETED: /\[[^\]]+\]/
    STRING: /'(?:[^']|'')*'/
    NUMBER: /-?\d+/
    %import common.WS
    %ignore WS
"""

_PARSER = Lark(_GRAMMAR, parser="lalr")
MAX_STATEMENT = 10_000


@dataclass(frozen=True, slots=True)
class DmvQuery:
    rowset: str
    columns: tuple[str, ...] | None  # None for SELECT *
    conditions: tuple[tuple[str, str], ...]  # (column, value)
    order: tuple[tuple[str, bool], ...]  # (column, descending)


class _Build(Transformer[Token, object]):
    def start(self, items: list[object]) -> DmvQuery:
        columns, _system, name, *rest = items
        conditions: tuple[tuple[str, str], ...] = ()
        order: tuple[tuple[str, bool], ...] = ()
        for item in rest:
            if isinstance(item, tuple) and item and item[0] == "where":
                conditions = item[1]
            elif isinstance(item, tuple) and item and item[0] == "order":
                order = item[1]
        return DmvQuery(str(name).upper(), columns, conditions, order)  # type: ignore[arg-type]

    def all_columns(self, _items: list[object]) -> None:
        return None

    def columns(self, items: list[str]) -> tuple[str, ...]:
        return tuple(items)

    def column(self, items: list[Token]) -> str:
        text = str(items[0])
        return text[1:-1] if text.startswith("[") else text

    def where(self, items: list[tuple[str, str]]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return ("where", tuple(items))

    def condition(self, items: list[str]) -> tuple[str, str]:
        return (items[0], items[1])

    def string(self, items: list[Token]) -> str:
        return str(items[0])[1:-1].replace("''", "'")

    def number(self, items: list[Token]) -> str:
        return str(int(str(items[0])))

    def order(self, items: list[tuple[str, bool]]) -> tuple[str, tuple[tuple[str, bool], ...]]:
        return ("order", tuple(items))

    def ordering(self, items: list[object]) -> tuple[str, bool]:
        descending = len(items) > 1 and str(items[1]).upper() == "DESC"
        return (str(items[0]), descending)


def is_dmv(statement: str) -> bool:
    """True for a statement that reads a ``$system`` rowset (the rest is MDX)."""
    return "$system" in statement.casefold()


def parse_dmv(statement: str) -> DmvQuery:
    if len(statement) > MAX_STATEMENT:
        raise XmlaClientError(f"The DMV statement is longer than {MAX_STATEMENT:,} characters.")
    try:
        return _Build().transform(_PARSER.parse(statement))  # type: ignore[return-value]
    except UnexpectedInput as error:
        raise XmlaClientError(
            f"The DMV statement could not be read at line {error.line}, column {error.column}: "
            "write SELECT columns FROM $system.ROWSET [WHERE column = value [AND ...]] [ORDER BY column]."
        ) from None
    except VisitError as error:  # a number too long to be one, say
        raise XmlaClientError(f"The DMV statement could not be read: {error.orig_exc}") from None
