"""Cube query → validated plan: every name resolved, members checked, size estimated.

Nothing runs against the fact table here. Two cheap reads of dimension tables happen: member
keys are looked up (so an unknown member is a NotFoundError, and keys reach SQL later only as
the typed values the database itself returned), and members per axis level are counted, so an
oversized query is refused before it runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement

from gateway.engine.aggregations import StoredAggregation, choose
from gateway.engine.cache import VersionMemo, version_key
from gateway.engine.cellset import Member
from gateway.engine.measures import dependencies
from gateway.engine.members import axis_level_members, key_condition, lookup_keys
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem
from gateway.engine.resolve import LevelRef, MemberRef, find_cube, resolve_level, resolve_measure, resolve_member
from gateway.errors import LimitExceededError, NotFoundError, QueryError
from gateway.model.types import Cube, Measure, MeasureKind

MAX_EXPLICIT_MEMBERS = 10_000
MAX_MEASURES = 200


@dataclass(frozen=True, slots=True)
class AxisLevel:
    """A level on an axis; ``keys`` are typed member keys of an explicit set (None: all members).

    ``members`` are the members shown along the axis, in order: the explicit set, or the
    level's members restricted by slicers on the same dimension.
    """

    ref: LevelRef
    keys: tuple[object, ...] | None = None
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class Slicer:
    """Members of one level the query is restricted to (OR within, AND across slicers).

    An ``excluded`` slicer is the opposite: every member of the level except these
    (``DST Handling <> 'Ukendt'``). It is AND-ed with the others like any slicer.
    """

    ref: LevelRef
    keys: tuple[object, ...]
    excluded: bool = False

    def condition(self, column: ColumnElement) -> ColumnElement[bool]:
        """This slicer on the level's key column (of whichever table holds it)."""
        return key_condition(column, self.keys, excluded=self.excluded)


@dataclass(frozen=True, slots=True)
class PlanOrder:
    measure: Measure | None  # exactly one of measure / level is set
    level: LevelRef | None
    descending: bool


@dataclass(frozen=True, slots=True)
class Plan:
    cube: Cube
    measures: tuple[Measure, ...]
    columns: tuple[AxisLevel, ...]
    rows: tuple[AxisLevel, ...]
    slicers: tuple[Slicer, ...]
    non_empty: bool
    order: tuple[PlanOrder, ...]
    limit: int | None
    offset: int
    estimated_cells: int
    aggregation: StoredAggregation | None = None  # the table that answers instead of the fact table

    @property
    def axis_levels(self) -> tuple[AxisLevel, ...]:
        """Column levels, then row levels: the order of key columns in the compiled statement."""
        return self.columns + self.rows


def plan_query(
    connection: Connection, cubes: Sequence[Cube], query: CubeQuery, *, cell_limit: int, memo: VersionMemo | None = None
) -> Plan:
    """Resolve and size the query. ``memo`` remembers member lookups per database version."""
    cube = find_cube(list(cubes), query.cube)
    measures = _measures(cube, query.measures)
    column_items = [_axis_item(cube, item) for item in query.columns]
    row_items = [_axis_item(cube, item) for item in query.rows]
    slicer_refs = [resolve_member(cube, name) for name in query.slicers]
    excluded_refs = [resolve_member(cube, name) for name in query.exclude_slicers]
    _check_axes(column_items + row_items)
    if query.limit is not None and query.limit < 0 or query.offset < 0:
        raise QueryError("limit and offset must not be negative.")

    version = version_key(connection) if memo is not None else None
    named = [m for _, ms in column_items + row_items if ms for m in ms] + slicer_refs + excluded_refs
    if version is None or memo is None:
        typed = _check_members(connection, cube, named)
    else:
        typed = memo.get_or_compute(
            (version, "keys", cube.name, tuple((m.level.unique_name, m.key) for m in named)),
            lambda: _check_members(connection, cube, named),
        )
    columns = tuple(_axis_level(ref, members, typed) for ref, members in column_items)
    rows = tuple(_axis_level(ref, members, typed) for ref, members in row_items)
    slicers = _slicers(slicer_refs, typed, excluded=False) + _slicers(excluded_refs, typed, excluded=True)
    order = tuple(_order(cube, o.by, o.descending, measures, columns + rows) for o in query.order)

    cap = cell_limit // len(measures) + 1  # one level alone above this is over the limit
    if version is None or memo is None:
        columns, rows = _with_members(connection, cube, columns, rows, slicers, cap)
    else:
        columns, rows = memo.get_or_compute(
            (version, "axes", cube.name, _shape(columns), _shape(rows), _shape(slicers), cap),
            lambda: _with_members(connection, cube, columns, rows, slicers, cap),
            weight=lambda axes: sum(len(a.members) for side in axes for a in side),
        )
    estimate = math.prod(len(a.members) for a in columns) * len(measures) * math.prod(len(a.members) for a in rows)
    if estimate > cell_limit:
        raise LimitExceededError(
            f"The query would return about {estimate:,} cells; the limit is {cell_limit:,}. "
            "Restrict it with slicers, fewer members or a row limit."
        )
    plan = Plan(
        cube=cube,
        measures=measures,
        columns=columns,
        rows=rows,
        slicers=slicers,
        non_empty=query.non_empty,
        order=order,
        limit=query.limit,
        offset=query.offset,
        estimated_cells=estimate,
    )
    return dataclasses.replace(plan, aggregation=choose(connection, plan, memo))


def _shape(items: tuple[AxisLevel, ...] | tuple[Slicer, ...]) -> tuple[tuple[str, object, bool], ...]:
    """A cheap hashable summary of axis levels or slicers: level unique names, keys, exclusion."""
    return tuple((item.ref.unique_name, item.keys, isinstance(item, Slicer) and item.excluded) for item in items)


def _measures(cube: Cube, names: Sequence[str]) -> tuple[Measure, ...]:
    if not names:
        raise QueryError("Name at least one measure.")
    if len(names) > MAX_MEASURES:
        raise QueryError(f"At most {MAX_MEASURES} measures may be asked for at once.")
    measures = tuple(resolve_measure(cube, name) for name in names)
    if len({m.name for m in measures}) != len(measures):
        raise QueryError("A measure is named more than once.")
    for measure in measures:
        _check_running_total_use(cube, measure, inside=False, seen=())
    return measures


def _check_running_total_use(cube: Cube, measure: Measure, *, inside: bool, seen: tuple[str, ...]) -> None:
    """Running totals are computed last (a window), so nothing may be built on top of one."""
    if measure.name in seen:
        raise QueryError(f"The measure '{measure.name}' refers to itself.")
    if measure.kind is MeasureKind.RUNNING_TOTAL:
        if inside:
            raise QueryError(f"The measure '{measure.name}' is a running total and cannot be used inside another.")
        inside = True
    for name in dependencies(measure):
        dependency = cube.measure(name)
        if dependency is None:
            raise NotFoundError(f"The measure '{name}' (used by '{measure.name}') was not found.")
        _check_running_total_use(cube, dependency, inside=inside, seen=seen + (measure.name,))


def _axis_item(cube: Cube, item: object) -> tuple[LevelRef, tuple[MemberRef, ...] | None]:
    if isinstance(item, LevelItem):
        return resolve_level(cube, item.level), None
    if isinstance(item, MemberSetItem):
        if not item.members:
            raise QueryError("An explicit member set is empty.")
        if len(item.members) > MAX_EXPLICIT_MEMBERS:
            raise QueryError(f"An explicit member set holds more than {MAX_EXPLICIT_MEMBERS} members.")
        members = tuple(resolve_member(cube, name) for name in item.members)
        if len({m.level for m in members}) != 1:
            raise QueryError("All members of an explicit set must belong to one level.")
        return members[0].level, members
    raise QueryError("An axis item must be a level or a member set.")


def _check_axes(items: list[tuple[LevelRef, tuple[MemberRef, ...] | None]]) -> None:
    seen: set[str] = set()
    for ref, _ in items:
        if ref.dimension.name in seen:
            raise QueryError(f"The dimension '{ref.dimension.name}' is used more than once on the axes.")
        seen.add(ref.dimension.name)


def _check_members(
    connection: Connection, cube: Cube, members: list[MemberRef]
) -> dict[tuple[LevelRef, str], object]:
    """Look every named member up in its dimension table; raise for the first missing one."""
    by_level: dict[LevelRef, list[str]] = {}
    for member in members:
        by_level.setdefault(member.level, []).append(member.key)
    typed: dict[tuple[LevelRef, str], object] = {}
    for ref, keys in by_level.items():
        found = lookup_keys(connection, cube, ref, list(dict.fromkeys(keys)))
        for key in keys:
            if key not in found:
                raise NotFoundError(
                    f"The member '{key}' was not found in the level '{ref.unique_name}' of the cube '{cube.name}'."
                )
            typed[(ref, key)] = found[key]
    return typed


def _axis_level(
    ref: LevelRef, members: tuple[MemberRef, ...] | None, typed: dict[tuple[LevelRef, str], object]
) -> AxisLevel:
    if members is None:
        return AxisLevel(ref)
    return AxisLevel(ref, tuple(dict.fromkeys(typed[(m.level, m.key)] for m in members)))


def _slicers(
    refs: list[MemberRef], typed: dict[tuple[LevelRef, str], object], *, excluded: bool
) -> tuple[Slicer, ...]:
    by_level: dict[LevelRef, list[object]] = {}
    for member in refs:
        by_level.setdefault(member.level, []).append(typed[(member.level, member.key)])
    return tuple(Slicer(ref, tuple(dict.fromkeys(keys)), excluded) for ref, keys in by_level.items())


def _order(
    cube: Cube, by: str, descending: bool, measures: tuple[Measure, ...], axes: tuple[AxisLevel, ...]
) -> PlanOrder:
    parsed_is_measure = by.strip().casefold().startswith("[measures]") or not by.strip().startswith("[")
    if parsed_is_measure:
        measure = resolve_measure(cube, by)
        if measure not in measures:
            raise QueryError(f"Order by '{by}': the measure must be one of the query's measures.")
        return PlanOrder(measure, None, descending)
    ref = resolve_level(cube, by)
    if ref not in {a.ref for a in axes}:
        raise QueryError(f"Order by '{by}': the level must be on an axis.")
    return PlanOrder(None, ref, descending)


def _with_members(
    connection: Connection,
    cube: Cube,
    columns: tuple[AxisLevel, ...],
    rows: tuple[AxisLevel, ...],
    slicers: tuple[Slicer, ...],
    cap: int,
) -> tuple[tuple[AxisLevel, ...], tuple[AxisLevel, ...]]:
    """Read the axis members (at most ``cap`` per level): an exact size before anything runs.

    A level's members are restricted by slicers on its own dimension; explicit sets are shown
    in the level's order. A row limit does not lower the size: every row tuple is computed
    before paging.
    """
    axes = columns + rows
    requests = [
        (a.ref, a.keys, [(s.ref, s.keys, s.excluded) for s in slicers if s.ref.dimension.name == a.ref.dimension.name])
        for a in axes
    ]
    members = axis_level_members(connection, cube, requests, limit=cap)
    filled = tuple(AxisLevel(a.ref, a.keys, m) for a, m in zip(axes, members))
    return filled[: len(columns)], filled[len(columns) :]
