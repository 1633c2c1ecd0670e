"""Aggregations: a cube's measures pre-aggregated at a grain, and when a query may use one.

Like SSAS aggregations or Mondrian aggregate tables: the loader builds each aggregation the model
declares (``build_statement``) in the same new version of the database as the fact table, so it
swaps in atomically with it and is never stale. The planner (``choose``) answers a query from the
smallest aggregation that holds everything the query groups, filters and measures on.

An aggregation table holds, per row of its grain, the key of each grain level *and of every
coarser level above it* (a month row also carries its quarter and year), so a coarser query
groups the table directly, no join. Measures are stored as components that add up (sum, count,
min, max); an average is a sum and a count. A distinct count does not add up: it is answered
only at exactly the aggregation's grain, never by adding rows. Under disclosure control the
table also carries each row's cell key (sum of record keys, hashed by the same database that
serves the queries) and its contributor count; with a ``distinct`` rule those do not add up
either, so such a cube is answered from an aggregation only at exactly its grain.

Table and column names come from the model, never from a query. The table name carries a digest
of its definition: after a model change, the old table is simply not used until the next load.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select, TableClause

from gateway.engine.cache import VersionMemo, version_key
from gateway.engine.measures import MeasureSql, measure_closure
from gateway.engine.tables import dimension_alias, fact_table
from gateway.errors import QueryError
from gateway.model.types import Aggregation, Cube, Dimension, Level, Measure, MeasureKind

if TYPE_CHECKING:
    from gateway.engine.plan import Plan

CELL_KEY_COLUMN = "cell_key"
CONTRIBUTORS_COLUMN = "contributors"
_PROTECTION_KINDS = frozenset({MeasureKind.CELL_KEY, MeasureKind.CONTRIBUTORS})
_NOT_ADDITIVE = frozenset({MeasureKind.DISTINCT_COUNT})

Component = tuple[str, str | None]  # (sum | count | dcount | min | max, fact column or None for rows)


def _components(measure: Measure) -> tuple[Component, ...]:
    kind, column = measure.kind, measure.column
    if kind is MeasureKind.SUM or kind is MeasureKind.DAYS_WEIGHTED:
        return (("sum", column),)
    if kind is MeasureKind.COUNT:
        return (("count", column),)
    if kind is MeasureKind.DISTINCT_COUNT:
        return (("dcount", column),)
    if kind is MeasureKind.AVG:
        return (("sum", column), ("count", column))
    if kind is MeasureKind.MIN:
        return (("min", column),)
    if kind is MeasureKind.MAX:
        return (("max", column),)
    return ()  # calculated, ratio, running total: built from other measures


def component_column(component: Component) -> str:
    function, column = component
    return f"{function}__{column or 'rows'}"


@dataclass(frozen=True, eq=False)
class StoredAggregation:
    """One declared aggregation resolved against a cube: its table and what it can answer."""

    aggregation: Aggregation
    table_name: str
    grain: dict[tuple[str, str], str]  # (dimension name, dimension column) -> stored column
    grain_levels: frozenset[tuple[str, str]]  # (dimension name, key column of the grain level)
    measures: frozenset[str]  # the declared measures and everything they are built from
    components: tuple[Component, ...]
    disclosure: bool  # carries the cell key and contributor count
    distinct_rule: bool  # the cell key is a distinct sum: exact grain only

    def table(self) -> TableClause:
        names = [*self.grain.values(), *(component_column(c) for c in self.components)]
        if self.disclosure:
            names += [CELL_KEY_COLUMN, CONTRIBUTORS_COLUMN]
        return sa.table(self.table_name, *(sa.column(n) for n in dict.fromkeys(names)))

    def answers(self, plan: Plan) -> bool:
        """True when every group, filter and measure of the plan can be read from this table."""
        cube = plan.cube
        if cube.disclosure is not None and not self.disclosure:
            return False
        # the protection's own measures (cell key, contributors) are stored columns of a table built
        # with disclosure, checked above; the distinct rule's grain is checked below
        closure = [m for m in measure_closure(cube, plan.measures) if m.kind not in _PROTECTION_KINDS]
        if any(m.name not in self.measures for m in closure):
            return False
        refs = [a.ref for a in plan.axis_levels] + [s.ref for s in plan.slicers]
        if any((r.dimension.name, r.level.key_column) not in self.grain for r in refs):
            return False
        running = any(m.kind is MeasureKind.RUNNING_TOTAL for m in closure)
        if running and not any(a.ref.dimension.is_time for a in plan.axis_levels):
            time = next((d for d in cube.dimensions if d.is_time), None)
            if time is not None and (time.name, time.key_column) not in self.grain:
                return False  # "up to the end of the period" compares the time dimension's key
        if any(m.kind in _NOT_ADDITIVE for m in closure) or (cube.disclosure is not None and self.distinct_rule):
            axes = {(a.ref.dimension.name, a.ref.level.key_column) for a in plan.axis_levels}
            return not running and axes == self.grain_levels  # one stored row per answered cell
        return True


@functools.lru_cache(maxsize=1024)  # per (view, aggregation): the planner asks on every query
def resolve(cube: Cube, aggregation: Aggregation) -> StoredAggregation:
    """The aggregation's grain columns and components, named from the model."""
    grain: dict[tuple[str, str], str] = {}
    grain_levels: set[tuple[str, str]] = set()
    for dimension, levels in _grain(cube, aggregation):
        for level in levels:
            grain[(dimension.name, level.key_column)] = _grain_column(dimension, level.key_column)
        grain_levels.add((dimension.name, levels[-1].key_column))
    declared = [_measure(cube, name) for name in aggregation.measures]
    closure = measure_closure(cube, declared)
    components = tuple(dict.fromkeys(c for m in closure for c in _components(m)))
    rule = aggregation.disclosure  # the model's rule, not the view's: one table serves every view
    definition = repr(
        (cube.fact_table, sorted(grain.values()), sorted(map(component_column, components)),
         None if rule is None else (rule.record_key, rule.distinct))
    )
    digest = hashlib.blake2b(definition.encode(), digest_size=4).hexdigest()
    return StoredAggregation(
        aggregation=aggregation,
        table_name=f"agg_{aggregation.name}_{digest}",
        grain=grain,
        grain_levels=frozenset(grain_levels),
        measures=frozenset(m.name for m in closure),
        components=components,
        disclosure=rule is not None,
        distinct_rule=rule is not None and rule.distinct,
    )


def _measure(cube: Cube, name: str) -> Measure:
    measure = next((m for m in cube.measures if m.name.casefold() == name.casefold()), None)
    if measure is None:
        raise QueryError(f"The aggregation names the measure '{name}', which the cube '{cube.name}' lacks.")
    return measure


def _grain(cube: Cube, aggregation: Aggregation) -> list[tuple[Dimension, tuple[Level, ...]]]:
    """Per grain dimension: the levels from the top of the hierarchy down to the grain level."""
    found = []
    for dimension_name, level_name in aggregation.levels:
        dimension = next((d for d in cube.dimensions if d.name.casefold() == dimension_name.casefold()), None)
        if dimension is None:
            raise QueryError(f"The aggregation '{aggregation.name}' names a dimension the cube lacks.")
        for hierarchy in dimension.hierarchies:
            names = [lv.name.casefold() for lv in hierarchy.levels]
            if level_name.casefold() in names:
                found.append((dimension, hierarchy.levels[: names.index(level_name.casefold()) + 1]))
                break
        else:
            raise QueryError(f"The aggregation '{aggregation.name}' names a level the cube lacks.")
    return found


def _grain_column(dimension: Dimension, column: str) -> str:
    return f"{dimension.foreign_key}__{column}"


def build_statement(cube: Cube, aggregation: Aggregation) -> tuple[str, Select]:
    """The table name and the SELECT that fills it from the fact table (run by the loader)."""
    stored = resolve(cube, aggregation)
    fact = fact_table(cube)
    joined: FromClause = fact
    keys: list[ColumnElement] = []
    for dimension, levels in _grain(cube, aggregation):
        alias = None
        for level in levels:
            if level.key_column == dimension.key_column:
                column = fact.c[dimension.foreign_key]
            else:
                if alias is None:
                    alias = dimension_alias(cube, dimension)
                    joined = joined.join(alias, fact.c[dimension.foreign_key] == alias.c[dimension.key_column])
                column = alias.c[level.key_column]
            keys.append(column.label(_grain_column(dimension, level.key_column)))
    values: list[ColumnElement] = [
        _component_sql(fact, component).label(component_column(component)) for component in stored.components
    ]
    if aggregation.disclosure is not None:
        measures = MeasureSql(dataclasses.replace(cube, disclosure=aggregation.disclosure), fact)
        values.append(measures.expression(Measure("cell key", MeasureKind.CELL_KEY)).label(CELL_KEY_COLUMN))
        values.append(measures.expression(Measure("contributors", MeasureKind.CONTRIBUTORS)).label(CONTRIBUTORS_COLUMN))
    statement = sa.select(*keys, *values).select_from(joined).group_by(*(k.element for k in keys))
    return stored.table_name, statement


def _component_sql(fact: FromClause, component: Component) -> ColumnElement:
    function, name = component
    if name is None:
        return sa.func.count()
    column = fact.c[name]
    if function == "sum":
        return sa.func.sum(column)
    if function == "count":
        return sa.func.count(column)
    if function == "dcount":
        return sa.func.count(sa.distinct(column))
    if function == "min":
        return sa.func.min(column)
    return sa.func.max(column)


@dataclass(frozen=True)
class StoredMeasureSql(MeasureSql):
    """Measure expressions over an aggregation table: components re-aggregated (sum of sums, ...)."""

    stored: StoredAggregation | None = None

    def _stored(self, component: Component) -> ColumnElement:
        column = self.fact.c[component_column(component)]
        return column if self.condition is None else sa.case((self.condition, column))

    def _column(self, measure: Measure) -> ColumnElement:
        return self._stored(("sum", measure.column))  # DAYS_WEIGHTED: SUM over the stored sums

    def _base(self, measure: Measure) -> ColumnElement:
        kind, column = measure.kind, measure.column
        if kind is MeasureKind.SUM:
            return sa.func.sum(self._stored(("sum", column)))
        if kind is MeasureKind.COUNT:
            return self._empty_if_zero(sa.func.sum(self._stored(("count", column))))
        if kind is MeasureKind.DISTINCT_COUNT:  # exact grain only (StoredAggregation.answers): one row
            return self._empty_if_zero(sa.func.max(self._stored(("dcount", column))))
        if kind is MeasureKind.AVG:
            return sa.cast(sa.func.sum(self._stored(("sum", column))), sa.Double()) / sa.func.nullif(
                sa.func.sum(self._stored(("count", column))), 0
            )
        if kind is MeasureKind.MIN:
            return sa.func.min(self._stored(("min", column)))
        if kind is MeasureKind.MAX:
            return sa.func.max(self._stored(("max", column)))
        raise QueryError(f"The measure kind '{kind.value}' is not supported.")

    def _disclosure(self, kind: MeasureKind) -> ColumnElement:
        rule = self.cube.disclosure
        if rule is None:
            raise QueryError(f"The cube '{self.cube.name}' has no disclosure rule.")
        name = CELL_KEY_COLUMN if kind is MeasureKind.CELL_KEY else CONTRIBUTORS_COLUMN
        column: ColumnElement = self.fact.c[name]
        if self.condition is not None:
            column = sa.case((self.condition, column))
        combined = sa.func.max(column) if rule.distinct else sa.func.sum(column)  # distinct: exact grain, one row
        return combined if kind is MeasureKind.CELL_KEY else sa.func.coalesce(combined, 0)


def choose(connection: Connection, plan: Plan, memo: VersionMemo | None = None) -> StoredAggregation | None:
    """The aggregation with the fewest grain columns that answers the plan and exists in this version."""
    if not plan.cube.aggregations:
        return None
    candidates = [resolve(plan.cube, a) for a in plan.cube.aggregations]
    answering = [c for c in candidates if c.answers(plan)]
    if not answering:
        return None
    present = existing_tables(connection, memo)
    usable = [c for c in answering if c.table_name in present]
    return min(usable, key=lambda c: len(c.grain), default=None)


def existing_tables(connection: Connection, memo: VersionMemo | None = None) -> frozenset[str]:
    """Names of the aggregation tables in the connected version (remembered per version)."""
    version: Hashable | None = version_key(connection) if memo is not None else None
    if memo is None or version is None:
        return _aggregation_tables(connection)
    return memo.get_or_compute((version, "aggregation tables"), lambda: _aggregation_tables(connection))


def _aggregation_tables(connection: Connection) -> frozenset[str]:
    names: Sequence[str] = sa.inspect(connection).get_table_names()
    return frozenset(n for n in names if n.startswith("agg_"))


def aggregation_sizes(connection: Connection) -> dict[str, int]:
    """Rows of each aggregation table in the connected version (for ``dataadgang databases``)."""
    preparer = connection.dialect.identifier_preparer
    return {
        name: int(connection.exec_driver_sql(f"SELECT count(*) FROM {preparer.quote_identifier(name)}").scalar_one())
        for name in sorted(_aggregation_tables(connection))
    }
