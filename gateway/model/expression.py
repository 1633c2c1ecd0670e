"""Calculated-measure expressions: a tiny arithmetic grammar over other measures.

``[Indrejste] - [Udrejste]``, ``([A] + [B]) / 2``: measure references in brackets, decimal
numbers, ``+ - * /``, unary minus and parentheses, nothing else. The text is parsed with
Python's ``ast`` after each ``[Name]`` is replaced by a placeholder, and only arithmetic nodes
are accepted, so an expression can never call, import or look anything up. The compiler gets
the tree as frozen dataclasses and builds SQLAlchemy expressions from it, never from text.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Collection
from dataclasses import dataclass

MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 100  # nesting of operators; keeps every recursion over the tree far from Python's limit

_REF = re.compile(r"\[([^\[\]]*)\]")
_PLACEHOLDER = "__measure_{}__"
_ALLOWED_RESIDUE = re.compile(r"[0-9.+\-*/()\s]*")
_OPERATORS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_OPERATOR_TEXT: dict[type[ast.operator], str] = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}


class ExpressionError(ValueError):
    """The expression text is not in the grammar; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to another measure of the same cube, by name."""

    name: str


@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # one of + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr


Expr = Ref | Num | BinOp | Neg


def parse_expression(text: str, known: Collection[str] | None = None) -> Expr:
    """Parse ``text``; every ``[Name]`` must be in ``known`` (skip that check with None)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    names: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name.strip():
            raise ExpressionError("empty measure reference '[]'")
        if known is not None and name not in known:
            raise ExpressionError(f"unknown measure '{name}'")
        names.append(name)
        return " " + _PLACEHOLDER.format(len(names) - 1) + " "

    source = _REF.sub(substitute, text)
    residue = _REF.sub(" ", text)
    if "[" in residue or "]" in residue:
        raise ExpressionError("unmatched '[' or ']'")
    if not _ALLOWED_RESIDUE.fullmatch(residue):
        bad = next(ch for ch in residue if not _ALLOWED_RESIDUE.fullmatch(ch))
        raise ExpressionError(
            f"unexpected character {bad!r}: write measures in brackets, e.g. [Indrejste]; "
            "only numbers, + - * / and parentheses may appear outside them"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a valid expression ({error.msg})") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression is nested more than {MAX_DEPTH} deep") from None
    placeholders = {_PLACEHOLDER.format(i): name for i, name in enumerate(names)}
    return _convert(tree.body, placeholders, 0)


def _convert(node: ast.expr, placeholders: dict[str, str], depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression is nested more than {MAX_DEPTH} deep")
    depth += 1
    if isinstance(node, ast.BinOp):
        op_type = type(node.op)
        if op_type not in _OPERATORS:
            raise ExpressionError(f"operator '{_OPERATOR_TEXT.get(op_type, op_type.__name__)}' is not allowed")
        left = _convert(node.left, placeholders, depth)
        right = _convert(node.right, placeholders, depth)
        if op_type is ast.Div and isinstance(right, Num) and right.value == 0:
            raise ExpressionError("division by the constant 0")
        return BinOp(_OPERATORS[op_type], left, right)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return Neg(_convert(node.operand, placeholders, depth))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand, placeholders, depth)
        raise ExpressionError(f"unary operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ExpressionError(f"constant {value!r} is not a finite number")
        return Num(float(value))
    if isinstance(node, ast.Name) and node.id in placeholders:
        return Ref(placeholders[node.id])
    raise ExpressionError(f"{type(node).__name__} is not allowed: only measures, numbers, + - * / and parentheses")


def references(expr: Expr) -> tuple[str, ...]:
    """Measure names the expression refers to, in order of first appearance, without repeats."""
    seen: dict[str, None] = {}

    def walk(node: Expr) -> None:
        if isinstance(node, Ref):
            seen.setdefault(node.name, None)
        elif isinstance(node, BinOp):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, Neg):
            walk(node.operand)

    walk(expr)
    return tuple(seen)


def is_linear(expr: Expr) -> bool:
    """True when the expression only adds and subtracts measures (no constants, * or /).

    Such an expression of additive measures is itself additive: summing it over members
    equals computing it over the sum.
    """
    if isinstance(expr, Ref):
        return True
    if isinstance(expr, Neg):
        return is_linear(expr.operand)
    if isinstance(expr, BinOp):
        return expr.op in "+-" and is_linear(expr.left) and is_linear(expr.right)
    return False
