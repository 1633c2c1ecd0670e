"""Plan → one SQLAlchemy Core statement, plus the labels of its columns.

The statement returns one row per combination of axis members that has data: a key column per
axis level (labels ``k0..``, columns' levels first, then rows') and a value column per measure
(``m0..``). Identifiers come from the model (``tables.py``); member keys are bound parameters
holding values the database itself returned during planning.

The best SQL for the question: a level whose key is its dimension's key (Aldersgruppe, Køn,
Kommune) is grouped and filtered on the fact table's own foreign key, and its dimension table is
joined only when a level of it needs an attribute the fact table does not carry (Måned, Region).
The loader guarantees every foreign key has its dimension row (``gateway.data.validate``), so
the join adds nothing but work; captions come from the axis members the planner already read.
When the planner chose an aggregation (``gateway.engine.aggregations``), the same shapes read its
table instead of the fact table: no join at all, the stored components re-aggregated.

Three shapes:
- plain: fact ⋈ the dimensions that are needed, WHERE filters on keys, GROUP BY axis keys;
- running total with time on an axis: the same grouping *without* time filters, made dense over
  all time members, summed by a window along time order, then filtered to the visible members
  (so the total counts from the beginning of data, whatever the filter);
- running total without time on an axis: one pass where the period's measures aggregate under
  "time in the slicer" and the running total under "time up to the end of the slicer period".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select

from gateway.engine.aggregations import StoredAggregation, StoredMeasureSql
from gateway.engine.measures import MeasureSql, measure_closure
from gateway.engine.plan import AxisLevel, Plan
from gateway.engine.tables import dimension_alias, fact_table
from gateway.errors import QueryError
from gateway.model.types import Cube, Dimension, Level, Measure, MeasureKind


@dataclass(frozen=True, slots=True)
class Labels:
    keys: tuple[str, ...]  # one per ``plan.axis_levels``
    measures: tuple[str, ...]  # one per ``plan.measures``


@dataclass(frozen=True)
class _Source:
    """The fact table and the dimension tables joined to it for one grouped select."""

    cube: Cube
    fact: FromClause
    aliases: dict[str, FromClause]
    joined: FromClause
    stored: StoredAggregation | None = None  # ``fact`` is this aggregation's table

    def column(self, dimension: Dimension, column: str) -> ColumnElement:
        """A dimension column: the fact's own foreign key for the dimension's key, else the joined table's."""
        if self.stored is not None:
            return self.fact.c[self.stored.grain[(dimension.name, column)]]
        if column == dimension.key_column:
            return self.fact.c[dimension.foreign_key]
        return self.aliases[dimension.name].c[column]

    def measures(self, days: ColumnElement | None) -> MeasureSql:
        if self.stored is not None:
            return StoredMeasureSql(self.cube, self.fact, None, days, self.stored)
        return MeasureSql(self.cube, self.fact, None, days)


def compile_plan(plan: Plan) -> tuple[Select, Labels]:
    labels = Labels(
        keys=tuple(f"k{i}" for i in range(len(plan.axis_levels))),
        measures=tuple(f"m{i}" for i in range(len(plan.measures))),
    )
    running = [m for m in plan.measures if m.kind is MeasureKind.RUNNING_TOTAL]
    if not running:
        return _plain(plan, labels), labels
    time = _running_dimension(plan.cube, running)
    time_axis = next((a for a in plan.axis_levels if a.ref.dimension.name == time.name), None)
    if time_axis is None:
        return _to_period_end(plan, labels, time), labels
    return _windowed(plan, labels, time, time_axis), labels


def _source(plan: Plan) -> _Source:
    cube = plan.cube
    # checked again here: a plan derived from another (a totals grain, a widened plan) keeps the
    # aggregation chosen for the original, which may not answer the derived one exactly
    if plan.aggregation is not None and plan.aggregation.answers(plan):
        table = plan.aggregation.table()
        return _Source(cube, table, {}, table, plan.aggregation)
    fact = fact_table(cube)
    refs = [a.ref for a in plan.axis_levels] + [s.ref for s in plan.slicers]
    used = {ref.dimension.name for ref in refs if ref.level.key_column != ref.dimension.key_column}
    aliases: dict[str, FromClause] = {}
    joined: FromClause = fact
    for dimension in cube.dimensions:
        if dimension.name in used:
            alias = dimension_alias(cube, dimension)
            aliases[dimension.name] = alias
            joined = joined.join(alias, fact.c[dimension.foreign_key] == alias.c[dimension.key_column])
    return _Source(cube, fact, aliases, joined)


def _filters(plan: Plan, source: _Source, *, except_dimension: str | None = None) -> list[ColumnElement[bool]]:
    """Explicit axis member sets and slicers, as ``key [NOT] IN (:bound)`` on the aliased tables."""
    conditions = []
    for axis in plan.axis_levels:
        if axis.keys is not None and axis.ref.dimension.name != except_dimension:
            conditions.append(source.column(axis.ref.dimension, axis.ref.level.key_column).in_(list(axis.keys)))
    for slicer in plan.slicers:
        if slicer.ref.dimension.name != except_dimension:
            conditions.append(slicer.condition(source.column(slicer.ref.dimension, slicer.ref.level.key_column)))
    return conditions


def _slicers_on(plan: Plan, dimension: Dimension, source: _Source) -> list[ColumnElement[bool]]:
    """The slicers on one dimension, on the source's key columns."""
    return [
        s.condition(source.column(dimension, s.ref.level.key_column))
        for s in plan.slicers
        if s.ref.dimension.name == dimension.name
    ]


def _slicer_filters(plan: Plan, dimension: Dimension, table: FromClause) -> list[ColumnElement[bool]]:
    """The slicers on one dimension, applied to another copy of its table."""
    return [
        s.condition(table.c[s.ref.level.key_column]) for s in plan.slicers if s.ref.dimension.name == dimension.name
    ]


def _axis_keys(plan: Plan, source: _Source) -> list[ColumnElement]:
    return [source.column(a.ref.dimension, a.ref.level.key_column) for a in plan.axis_levels]


def _as_text(key: ColumnElement, label: str) -> ColumnElement:
    """Keys leave as the database's text, the form member names and axis members use."""
    return sa.cast(key, sa.String).label(label)


def _with_days(plan: Plan, source: _Source) -> tuple[_Source, ColumnElement | None]:
    """The days-in-period denominator for DAYS_WEIGHTED measures, when the query has any.

    Time level on an axis: a per-member subquery of the time table (restricted by time slicers)
    outer-joined on the level key. Otherwise the days of every time member in the slicers (or the
    whole table) as a scalar subquery.
    """
    weighted = [m for m in measure_closure(plan.cube, plan.measures) if m.kind is MeasureKind.DAYS_WEIGHTED]
    if not weighted:
        return source, None
    time = _time_dimension(plan.cube, weighted[0].along)
    if time.days_column is None:
        raise QueryError(f"The measure '{weighted[0].name}' needs a time dimension with a days column.")
    table = dimension_alias(plan.cube, time, "w")
    days = table.c[time.days_column]
    axis = next((a for a in plan.axis_levels if a.ref.dimension.name == time.name), None)
    if axis is None:
        return source, sa.select(sa.func.sum(days)).where(*_slicer_filters(plan, time, table)).scalar_subquery()
    level_key = table.c[axis.ref.level.key_column]
    per_member = (
        sa.select(level_key.label("k"), sa.func.sum(days).label("days"))
        .where(*_slicer_filters(plan, time, table))
        .group_by(level_key)
        .subquery("dw")
    )
    joined = source.joined.outerjoin(
        per_member, per_member.c.k == source.column(time, axis.ref.level.key_column)
    )
    return dataclasses.replace(source, joined=joined), sa.func.max(per_member.c.days)


def _plain(plan: Plan, labels: Labels) -> Select:
    source, days = _with_days(plan, _source(plan))
    measures = source.measures(days)
    keys = _axis_keys(plan, source)
    return (
        sa.select(
            *(_as_text(key, label) for key, label in zip(keys, labels.keys)),
            *(measures.expression(m).label(label) for m, label in zip(plan.measures, labels.measures)),
        )
        .select_from(source.joined)
        .where(*_filters(plan, source))
        .group_by(*keys)
        .having(*_has_rows(keys))
    )


def _has_rows(keys: list[ColumnElement]) -> list[ColumnElement[bool]]:
    """Without grouping keys an aggregate returns one row even over no rows (COUNT gives 0):
    keep a grand total over nothing empty, like every other cell without rows."""
    return [] if keys else [sa.func.count() > 0]


def _to_period_end(plan: Plan, labels: Labels, time: Dimension) -> Select:
    """Running totals with no time level on an axis: the total up to the end of the time slicers."""
    if not any(s.ref.dimension.name == time.name for s in plan.slicers):
        return _plain(plan, labels)  # no time restriction: the running total is the grand total
    source, days = _with_days(plan, _source(plan))
    time_key = source.column(time, time.key_column)
    in_period = sa.and_(*_slicers_on(plan, time, source))
    end_table = dimension_alias(plan.cube, time, "e")
    end = (
        sa.select(sa.func.max(end_table.c[time.key_column]))
        .where(*_slicer_filters(plan, time, end_table))
        .scalar_subquery()
    )
    up_to_end = time_key <= end
    measures = source.measures(days)
    columns = []
    for measure, label in zip(plan.measures, labels.measures):
        condition = up_to_end if measure.kind is MeasureKind.RUNNING_TOTAL else in_period
        columns.append(measures.with_condition(condition).expression(measure).label(label))
    keys = _axis_keys(plan, source)
    return (
        sa.select(*(_as_text(key, label) for key, label in zip(keys, labels.keys)), *columns)
        .select_from(source.joined)
        .where(*_filters(plan, source, except_dimension=time.name), up_to_end)
        .group_by(*keys)
        .having(*_has_rows(keys))
    )


def _windowed(plan: Plan, labels: Labels, time: Dimension, time_axis: AxisLevel) -> Select:
    """Running totals along a time level on an axis, counted from the beginning of data."""
    level: Level = time_axis.ref.level
    others = [a for a in plan.axis_levels if a is not time_axis]
    source, days = _with_days(plan, _source(plan))
    measures = source.measures(days)
    other_keys = [source.column(a.ref.dimension, a.ref.level.key_column) for a in others]
    time_key = source.column(time, level.key_column)
    inner_measures = [
        measures.expression(_running_base(plan.cube, m) if m.kind is MeasureKind.RUNNING_TOTAL else m).label(label)
        for m, label in zip(plan.measures, labels.measures)
    ]
    grouped = (
        sa.select(*(k.label(f"o{j}") for j, k in enumerate(other_keys)), time_key.label("t"), *inner_measures)
        .select_from(source.joined)
        .where(*_filters(plan, source, except_dimension=time.name))
        .group_by(*other_keys, time_key)
        .cte("g")  # read twice (member combinations and values): computed once
    )
    members_table = dimension_alias(plan.cube, time, "m")
    member_key = members_table.c[level.key_column]
    time_members = (
        sa.select(member_key.label("t"), sa.func.min(members_table.c[level.order_column]).label("o"))
        .group_by(member_key)
        .subquery("tm")
    )
    other_names = [f"o{j}" for j in range(len(others))]
    if others:
        combos = sa.select(*(grouped.c[n] for n in other_names)).distinct().subquery("oc")
        grid: FromClause = (
            sa.select(*combos.c, time_members.c.t, time_members.c.o)
            .select_from(combos.join(time_members, sa.true()))
            .subquery("grid")
        )
    else:
        grid = time_members
    on = sa.and_(grid.c.t == grouped.c.t, *(grid.c[n] == grouped.c[n] for n in other_names))
    partition = [grid.c[n] for n in other_names]
    window_columns = []
    for measure, label in zip(plan.measures, labels.measures):
        value: ColumnElement = grouped.c[label]
        if measure.kind is MeasureKind.RUNNING_TOTAL:
            value = sa.func.sum(value).over(
                partition_by=partition or None, order_by=[grid.c.o, grid.c.t], rows=(None, 0)
            )
        window_columns.append(value.label(label))
    names = iter(other_names)
    key_columns = [
        (grid.c.t if axis is time_axis else grid.c[next(names)]).label(label)
        for axis, label in zip(plan.axis_levels, labels.keys)
    ]
    windowed = sa.select(*key_columns, *window_columns).select_from(grid.outerjoin(grouped, on)).subquery("w")
    time_label = labels.keys[plan.axis_levels.index(time_axis)]
    visible = []
    if time_axis.keys is not None:
        visible.append(windowed.c[time_label].in_(list(time_axis.keys)))
    if any(s.ref.dimension.name == time.name for s in plan.slicers):
        filter_table = dimension_alias(plan.cube, time, "f")
        visible.append(
            windowed.c[time_label].in_(
                sa.select(filter_table.c[level.key_column]).where(*_slicer_filters(plan, time, filter_table))
            )
        )
    return sa.select(
        *(_as_text(windowed.c[label], label) for label in labels.keys), *(windowed.c[m] for m in labels.measures)
    ).where(*visible)


def _running_base(cube: Cube, measure: Measure) -> Measure:
    base = cube.measure(measure.of or "")
    if base is None:
        raise QueryError(f"The measure '{measure.of}' (accumulated by '{measure.name}') is not defined.")
    return base


def _running_dimension(cube: Cube, running: list[Measure]) -> Dimension:
    dimensions = {_time_dimension(cube, m.along).name for m in running}
    if len(dimensions) > 1:
        raise QueryError("Running totals along different dimensions cannot be asked for together.")
    return _time_dimension(cube, running[0].along)


def _time_dimension(cube: Cube, name: str | None) -> Dimension:
    dimension = cube.dimension(name) if name else next((d for d in cube.dimensions if d.is_time), None)
    if dimension is None:
        raise QueryError(f"The cube '{cube.name}' has no time dimension '{name or ''}'.")
    return dimension
