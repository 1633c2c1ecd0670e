"""MDX text → syntax tree (``ast.py``), with lark's LALR parser and the grammar beside this file.

The tree is built while parsing (an inline transformer), so no step recurses over the input:
deep nesting costs memory proportional to the text, and both text length and nesting depth are
capped. Every failure is an :class:`MdxSyntaxError` naming line and column.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from gateway.mdx import ast
from gateway.mdx.errors import MdxSyntaxError, MdxUnsupportedError

MAX_TEXT_LENGTH = 256_000
MAX_DEPTH = 100
AXIS_NAMES = {"COLUMNS": 0, "ROWS": 1, "PAGES": 2, "SECTIONS": 3, "CHAPTERS": 4}
MAX_AXES = 3


CACHED_STATEMENT_CHARS = 16_384  # longer statements are parsed every time rather than kept


def parse_query(text: str) -> ast.Select:
    """A whole statement: ``[WITH ...] SELECT ... FROM ... [WHERE ...] [CELL PROPERTIES ...]``.

    Excel and Power BI send the same few statements again and again, and the XMLA door reads a
    statement's FROM before the engine runs it: one parse serves both (the tree is immutable)."""
    return _parse_query_cached(text) if len(text) <= CACHED_STATEMENT_CHARS else _parse_query(text)


@lru_cache(maxsize=512)
def _parse_query_cached(text: str) -> ast.Select:
    return _parse_query(text)


def _parse_query(text: str) -> ast.Select:
    result = _parse(text, "query")
    assert isinstance(result, ast.Select)  # the grammar's start rule makes one
    return result


def parse_expression(text: str) -> ast.Expr:
    """One expression, e.g. the quoted body of ``WITH SET [x] AS '...'``."""
    return _parse(text, "expression_only")  # type: ignore[return-value]


def _parse(text: str, start: str) -> object:
    if not isinstance(text, str) or not text.strip():
        raise MdxSyntaxError("The MDX statement is empty.")
    if len(text) > MAX_TEXT_LENGTH:
        raise MdxSyntaxError(f"The MDX statement is longer than {MAX_TEXT_LENGTH:,} characters.")
    try:
        return _parser().parse(text, start=start)
    except VisitError as error:  # raised inside a callback: our own error, unwrapped
        if isinstance(error.orig_exc, MdxSyntaxError | MdxUnsupportedError):
            raise error.orig_exc from None
        raise
    except (MdxSyntaxError, MdxUnsupportedError):
        raise
    except UnexpectedInput as error:
        raise MdxSyntaxError(_describe(error, text)) from None


def _describe(error: UnexpectedInput, text: str) -> str:
    where = f"line {error.line}, column {error.column}"
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        lines = text.rstrip().split("\n")
        end = f"line {len(lines)}, column {len(lines[-1]) + 1}"
        return f"Syntax error at the end of the MDX statement ({end}): it stops too early."
    if isinstance(error, UnexpectedToken):
        return f"Syntax error at {where}: unexpected {_shown(str(error.token))}."
    if isinstance(error, UnexpectedCharacters):
        return f"Syntax error at {where}: unexpected character {_shown(text[error.pos_in_stream])}."
    return f"Syntax error at {where}."


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start=["query", "expression_only"],
        transformer=_Build(),
        propagate_positions=False,
        maybe_placeholders=True,
    )


def _depth(*nodes: object) -> int:
    depth = 1 + max((getattr(n, "depth", 0) for n in nodes if n is not None), default=0)
    if depth > MAX_DEPTH:
        raise MdxSyntaxError(f"The MDX statement nests more than {MAX_DEPTH} levels deep.")
    return depth


def _unquote(token: str) -> str:
    if token.startswith("&["):
        return token[2:-1].replace("]]", "]")
    return token[1:-1].replace("]]", "]")


def _segment(token: Token) -> ast.Segment:
    if token.type == "KEY":
        return ast.Segment(_unquote(token), key=True)
    if token.type == "BRACKETED":
        return ast.Segment(_unquote(token), quoted=True)
    return ast.Segment(str(token))


def _string(token: str) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


def _expression_in(node: ast.Expr) -> ast.Expr:
    """``AS 'text'``: the quoted text is itself an expression (Excel quotes every definition)."""
    if isinstance(node, ast.String):
        return parse_expression(node.value)
    return node


class _Build(Transformer):  # type: ignore[type-arg]
    """Rule callbacks, run by the LALR parser as it reduces: tokens and children → ast nodes."""

    def query(self, children: list[Any]) -> ast.Select:
        definitions, select = children if len(children) == 2 else ([], children[0])
        sets = tuple(d for d in definitions if isinstance(d, ast.SetDefinition))
        members = tuple(d for d in definitions if isinstance(d, ast.MemberDefinition))
        return ast.Select(select.axes, select.source, select.where, select.cell_properties, sets, members)

    def expression_only(self, children: list[Any]) -> ast.Expr:
        return children[0]

    def with_clause(self, children: list[Any]) -> list[Any]:
        return children

    def set_definition(self, children: list[Any]) -> ast.SetDefinition:
        return ast.SetDefinition(children[0], _expression_in(children[1]))

    def member_definition(self, children: list[Any]) -> ast.MemberDefinition:
        name, expression, *properties = children
        return ast.MemberDefinition(name, _expression_in(expression), tuple(properties))

    def member_property(self, children: list[Any]) -> tuple[str, ast.Expr]:
        return (str(children[0]).upper(), children[1])

    def select(self, children: list[Any]) -> ast.Select:
        *axes, source, where, cell_properties = children
        axes = [a for a in axes if a is not None]
        return ast.Select(_checked_axes(axes), source, where, tuple(cell_properties or ()))

    def subselect(self, children: list[Any]) -> ast.Select:
        *axes, source, where = children
        return ast.Select(_checked_axes(axes), source, where)

    def axis(self, children: list[Any]) -> ast.Axis:
        non_empty, expression, properties, ordinal = children
        return ast.Axis(ordinal, expression, non_empty is not None, tuple(properties or ()))

    def dimension_properties(self, children: list[Any]) -> list[str]:
        return [c for c in children if isinstance(c, str) and not isinstance(c, Token)]

    def cell_properties(self, children: list[Any]) -> list[str]:
        return [c for c in children if isinstance(c, str) and not isinstance(c, Token)]

    def property_name(self, children: list[Any]) -> str:
        return ".".join(s.text for s in children[0].segments).upper()

    def axis_name(self, children: list[Any]) -> int:
        token = str(children[0])
        if token.upper() in AXIS_NAMES:
            return AXIS_NAMES[token.upper()]
        if "." in token or "e" in token.lower():
            raise MdxSyntaxError(f"'{token}' is not an axis number.")
        return int(token)

    def where(self, children: list[Any]) -> ast.Expr:
        return children[0]

    def name(self, children: list[Token]) -> ast.Name:
        return ast.Name(tuple(_segment(t) for t in children))

    def name_start(self, children: list[Token]) -> ast.Name:
        return ast.Name((_segment(children[0]),))

    def dot(self, children: list[Any]) -> ast.Expr:
        target, token = children
        if isinstance(target, ast.Name):
            return ast.Name(target.segments + (_segment(token),), target.depth)
        if token.type != "IDENT":
            raise MdxUnsupportedError(f".{token}", "A name part may follow only a name.")
        return ast.Method(target, str(token), (), _depth(target))

    def method(self, children: list[Any]) -> ast.Method:
        target, function, args = children
        return ast.Method(target, str(function), args, _depth(target, *args))

    def call(self, children: list[Any]) -> ast.Call:
        function, args = children
        return ast.Call(str(function), args, _depth(*args))

    def arguments(self, children: list[Any]) -> tuple[ast.Expr | None, ...]:
        if len(children) == 1 and children[0] is None:
            return ()
        return tuple(children)

    def argument(self, children: list[Any]) -> ast.Expr | None:
        return children[0] if children else None

    def alias(self, children: list[Any]) -> ast.Alias:
        expression, name = children
        return ast.Alias(expression, name, _depth(expression))

    def set(self, children: list[Any]) -> ast.SetLiteral:
        items = tuple(c for c in children if c is not None)
        return ast.SetLiteral(items, _depth(*items))

    def paren(self, children: list[Any]) -> ast.Expr:
        if len(children) == 1:
            return children[0]
        return ast.TupleLiteral(tuple(children), _depth(*children))

    def number(self, children: list[Token]) -> ast.Number:
        text = str(children[0])
        value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        return ast.Number(value)

    def string(self, children: list[Token]) -> ast.String:
        return ast.String(_string(str(children[0])))

    def null(self, children: list[Token]) -> ast.Null:
        return ast.Null()

    def binary(self, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(str(op).upper(), left, right, _depth(left, right))

    def unary(self, children: list[Any]) -> ast.Unary:
        op, operand = children
        return ast.Unary(str(op).upper(), operand, _depth(operand))

    def range(self, children: list[Any]) -> ast.Range:
        first, last = children
        return ast.Range(first, last, _depth(first, last))


def _checked_axes(axes: list[ast.Axis]) -> tuple[ast.Axis, ...]:
    ordinals = sorted(a.ordinal for a in axes)
    if ordinals != list(range(len(axes))):
        raise MdxSyntaxError("Axes must be numbered from 0 without gaps or repeats (COLUMNS, ROWS, ...).")
    if len(axes) > MAX_AXES:
        raise MdxUnsupportedError(f"AXIS({len(axes) - 1})", f"At most {MAX_AXES} axes are supported.")
    return tuple(sorted(axes, key=lambda a: a.ordinal))
