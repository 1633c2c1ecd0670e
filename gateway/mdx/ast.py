"""The MDX syntax tree: what was written, nothing resolved yet.

Every node knows its nesting ``depth`` so the binder can refuse absurdly deep input before
walking it (the parser itself is LALR, which builds trees without recursion).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a dotted name: ``[Tid]`` (quoted), ``Members`` (bare) or ``&[2022-03]`` (key)."""

    text: str
    quoted: bool = False
    key: bool = False

    def source(self) -> str:
        if self.key:
            return "&[" + self.text.replace("]", "]]") + "]"
        if self.quoted:
            return "[" + self.text.replace("]", "]]") + "]"
        return self.text


@dataclass(frozen=True, slots=True)
class Name:
    """``[Tid].[Tid].[Måned].&[2022-03]``, ``[Køn].[Køn].Members``: meaning comes from the binder."""

    segments: tuple[Segment, ...]
    depth: int = 1

    def source(self) -> str:
        return ".".join(s.source() for s in self.segments)


@dataclass(frozen=True, slots=True)
class Call:
    """``Function(arg, , arg)``; an omitted argument is None."""

    function: str
    args: tuple[Expr | None, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Method:
    """``target.Function(args)`` or ``target.Property`` on something that is not a plain name."""

    target: Expr
    function: str
    args: tuple[Expr | None, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class SetLiteral:
    items: tuple[Expr, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class TupleLiteral:
    """``(a, b)``; ``(a)`` is just ``a`` and never becomes a TupleLiteral."""

    items: tuple[Expr, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Number:
    value: float | int
    depth: int = 1


@dataclass(frozen=True, slots=True)
class String:
    value: str
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Null:
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # upper-cased: + - * / = <> < > <= >= AND OR XOR
    left: Expr
    right: Expr
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # - + NOT
    operand: Expr
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Range:
    """``member : member``."""

    first: Expr
    last: Expr
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Alias:
    """``set AS [name]`` inside a function's arguments (Excel's top-N filters use it)."""

    expression: Expr
    name: Name
    depth: int = 1


Expr = Alias | Name | Call | Method | SetLiteral | TupleLiteral | Number | String | Null | Binary | Unary | Range


@dataclass(frozen=True, slots=True)
class Axis:
    ordinal: int
    expression: Expr
    non_empty: bool = False
    properties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetDefinition:
    name: Name
    expression: Expr


@dataclass(frozen=True, slots=True)
class MemberDefinition:
    name: Name
    expression: Expr
    properties: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True, slots=True)
class Select:
    """``source`` is the cube's name, or a subselect restricting the cube (Excel's filters)."""

    axes: tuple[Axis, ...]
    source: Name | Select
    where: Expr | None = None
    cell_properties: tuple[str, ...] = ()
    sets: tuple[SetDefinition, ...] = field(default=())
    members: tuple[MemberDefinition, ...] = field(default=())

    @property
    def cube_name(self) -> Name:
        source = self.source
        while isinstance(source, Select):
            source = source.source
        return source
