"""One measure → one SQL aggregate expression over the joined fact rows.

Every division is ``CAST(x AS DOUBLE) / NULLIF(y, 0)``: a zero denominator gives an empty cell,
never an error, and integer division can not truncate on PostgreSQL. Averages are computed as
sum/count the same way so DuckDB and PostgreSQL return bit-identical doubles.

An optional ``condition`` moves a row filter into the aggregates (``SUM(CASE WHEN c THEN x END)``):
that lets one grouped pass compute a period's values and a running total to the period's end.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement, FromClause

from gateway.engine.record_key import record_key
from gateway.errors import QueryError
from gateway.model.expression import BinOp, Expr, Neg, Num, Ref, parse_expression, references
from gateway.model.types import Cube, Measure, MeasureKind

DOUBLE = sa.Double()


@functools.lru_cache(maxsize=4096)
def parsed(expression: str) -> Expr:
    """A calculated measure's expression tree, parsed once per text: plans, compiles and the
    protection of every cell ask for it, and the trees are immutable."""
    return parse_expression(expression)


def dependencies(measure: Measure) -> tuple[str, ...]:
    """:attr:`Measure.dependencies` from the parsed-once tree."""
    if measure.expression is not None:
        return references(parsed(measure.expression))
    return tuple(n for n in (measure.numerator, measure.denominator, measure.of) if n is not None)


def divide(numerator: ColumnElement, denominator: ColumnElement) -> ColumnElement:
    return sa.cast(numerator, DOUBLE) / sa.func.nullif(denominator, 0)


@dataclass(frozen=True)
class MeasureSql:
    """Builds measure expressions for one grouped select.

    ``days`` is the days-in-period denominator for DAYS_WEIGHTED measures (an expression valid in
    the select: a scalar subquery or an aggregate over a joined per-time-member subquery).
    """

    cube: Cube
    fact: FromClause
    condition: ColumnElement[bool] | None = None
    days: ColumnElement | None = None

    def with_condition(self, condition: ColumnElement[bool] | None) -> MeasureSql:
        return dataclasses.replace(self, condition=condition)

    def expression(self, measure: Measure) -> ColumnElement:
        return self._expression(measure, ())

    def _expression(self, measure: Measure, seen: tuple[str, ...]) -> ColumnElement:
        if measure.name in seen:
            raise QueryError(f"The measure '{measure.name}' refers to itself.")
        seen = seen + (measure.name,)
        kind = measure.kind
        if kind is MeasureKind.CALCULATED:
            return self._calculated(parsed(measure.expression or ""), seen)
        if kind is MeasureKind.RATIO:
            numerator = self._named(measure.numerator, seen)
            denominator = self._named(measure.denominator, seen)
            return divide(numerator, denominator) * sa.literal(float(measure.scale), DOUBLE)
        if kind is MeasureKind.RUNNING_TOTAL:
            # Only reached when no time level is on an axis: the caller set ``condition`` to
            # "up to the end of the slicer period", so the total of the measure is the answer.
            return self._named(measure.of, seen)
        if kind is MeasureKind.DAYS_WEIGHTED:
            if self.days is None:
                raise QueryError(f"The measure '{measure.name}' needs a time dimension with a days column.")
            return divide(sa.func.sum(self._column(measure)), self.days)
        if kind is MeasureKind.CELL_KEY or kind is MeasureKind.CONTRIBUTORS:
            return self._disclosure(kind)
        return self._base(measure)

    def _disclosure(self, kind: MeasureKind) -> ColumnElement:
        """The cell's cell key (sum of its contributors' record keys) or its contributor count."""
        rule = self.cube.disclosure
        if rule is None:
            raise QueryError(f"The cube '{self.cube.name}' has no disclosure rule.")
        key: ColumnElement = record_key(self.fact, rule.record_key)
        if self.condition is not None:
            key = sa.case((self.condition, key))
        if kind is MeasureKind.CELL_KEY:
            return sa.func.sum(sa.distinct(key) if rule.distinct else key)
        if rule.distinct:
            return sa.func.count(sa.distinct(key))
        # one contributor per row: the rows themselves, without hashing them again
        return sa.func.count() if self.condition is None else sa.func.count(sa.case((self.condition, 1)))

    def _named(self, name: str | None, seen: tuple[str, ...]) -> ColumnElement:
        measure = self.cube.measure(name or "")
        if measure is None:
            raise QueryError(f"The measure '{name}' is not defined in the cube '{self.cube.name}'.")
        return self._expression(measure, seen)

    def _column(self, measure: Measure) -> ColumnElement:
        if not measure.column:
            raise QueryError(f"The measure '{measure.name}' has no column.")
        column = self.fact.c[measure.column]
        return column if self.condition is None else sa.case((self.condition, column))

    def _base(self, measure: Measure) -> ColumnElement:
        kind = measure.kind
        if kind is MeasureKind.COUNT and measure.column is None:
            if self.condition is None:
                return sa.func.count()
            return self._empty_if_zero(sa.func.count(sa.case((self.condition, sa.literal(1)))))
        column = self._column(measure)
        if kind is MeasureKind.SUM:
            return sa.func.sum(column)
        if kind is MeasureKind.COUNT:
            return self._empty_if_zero(sa.func.count(column))
        if kind is MeasureKind.DISTINCT_COUNT:
            return self._empty_if_zero(sa.func.count(sa.distinct(column)))
        if kind is MeasureKind.AVG:
            return divide(sa.func.sum(column), sa.func.count(column))
        if kind is MeasureKind.MIN:
            return sa.func.min(column)
        if kind is MeasureKind.MAX:
            return sa.func.max(column)
        raise QueryError(f"The measure kind '{kind.value}' is not supported.")

    def _empty_if_zero(self, count: ColumnElement) -> ColumnElement:
        """Under a condition a group may have no matching rows: empty, as if it had no group."""
        return count if self.condition is None else sa.func.nullif(count, 0)

    def _calculated(self, node: Expr, seen: tuple[str, ...]) -> ColumnElement:
        if isinstance(node, Ref):
            return self._named(node.name, seen)
        if isinstance(node, Num):
            return sa.literal(float(node.value), DOUBLE)
        if isinstance(node, Neg):
            return -self._calculated(node.operand, seen)
        if isinstance(node, BinOp):
            left = self._calculated(node.left, seen)
            right = self._calculated(node.right, seen)
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            if node.op == "*":
                return left * right
            if node.op == "/":
                return divide(left, right)
        raise QueryError("The calculated measure's expression is not supported.")


def measure_closure(cube: Cube, measures: Iterable[Measure]) -> list[Measure]:
    """The measures and everything they are built from, each once."""
    found: dict[str, Measure] = {}
    pending = list(measures)
    while pending:
        measure = pending.pop()
        if measure.name in found:
            continue
        found[measure.name] = measure
        pending.extend(m for m in (cube.measure(n) for n in dependencies(measure)) if m is not None)
    return list(found.values())
