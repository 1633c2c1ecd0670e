"""One bound MDX statement → :class:`MdxResult`: axes, NON EMPTY, the slicer axis and the cells."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import Any

from gateway.engine.format import format_value
from gateway.errors import LimitExceededError, NotFoundError, QueryError
from gateway.mdx import ast
from gateway.mdx.bind import Binder
from gateway.mdx.members import HierarchyRef, MdxMember, hierarchies
from gateway.mdx.result import (
    MEASURES_HIERARCHY,
    HierarchyInfo,
    MdxAxis,
    MdxCell,
    MdxResult,
    MemberInfo,
)
from gateway.mdx.values import MdxTuple, SetValue
from gateway.model.catalog import name_key

DEFAULT_CELL_PROPERTIES = ("VALUE", "FORMATTED_VALUE", "CELL_ORDINAL")


def cube_name(select: ast.Select, database: str) -> str:
    """The cube ``FROM`` names: ``[cube]``, or ``[database].[cube]`` naming the opened database
    (the XMLA door has already given another database the uniform denial)."""
    name = select.cube_name
    segments = name.segments
    if len(segments) == 2 and not segments[0].key and name_key(segments[0].text) == name_key(database):
        segments = segments[1:]
    if len(segments) != 1 or segments[0].key:
        raise NotFoundError(f"The cube '{name.source()}' was not found.")
    return segments[0].text


def execute_select(
    select: ast.Select, binder: Binder, *, catalog: str, cell_limit: int, data_as_of: dt.date | dt.datetime | None
) -> MdxResult:
    binder.define(select)
    if isinstance(select.source, ast.Select):
        binder.restrict(select.source)
    binder.slice(select.where)
    sets = [binder.axis_set(axis.expression) for axis in select.axes]
    _check_hierarchies(sets, binder)
    size = math.prod(len(s.tuples) for s in sets)
    if size > cell_limit:
        raise LimitExceededError(
            f"The MDX query would return {size:,} cells; the limit is {cell_limit:,}. Filter or use NON EMPTY on fewer members."
        )
    coordinates = [binder.coordinate(*reversed(combo)) for combo in itertools.product(*(s.tuples for s in reversed(sets)))]
    values = binder.cell_values(coordinates) if coordinates else []
    kept = _non_empty(sets, values, [axis.non_empty for axis in select.axes])
    cells = _cells(sets, kept, values, coordinates)
    axes = tuple(
        _axis(index, [sets[index].tuples[p] for p in positions], select.axes[index].properties, sets[index])
        for index, positions in enumerate(kept)
    )
    return MdxResult(
        catalog=catalog,
        cube=binder.cube.name,
        axes=axes,
        slicer=_slicer_axis(binder, sets),
        cells=tuple(cells),
        cell_properties=select.cell_properties or DEFAULT_CELL_PROPERTIES,
        data_as_of=data_as_of,
    )


def _check_hierarchies(sets: Sequence[SetValue], binder: Binder) -> None:
    seen = set(binder.context)
    for found in sets:
        names = {m.hierarchy_name for m in found.tuples[0]} if found.tuples else set()
        clash = names & seen
        if clash:
            raise QueryError(f"The hierarchy '{sorted(clash)[0]}' is used on more than one axis or in the WHERE clause.")
        seen |= names


def _non_empty(sets: Sequence[SetValue], values: Sequence[Any], flags: Sequence[bool]) -> list[list[int]]:
    """Per axis, the positions kept: all, or (NON EMPTY) those with a value anywhere across the other axes."""
    sizes = [len(s.tuples) for s in sets]
    filled = [[False] * n for n in sizes]
    if any(flags):
        for ordinal, value in enumerate(values):
            if value is None:
                continue
            rest = ordinal
            for axis, n in enumerate(sizes):
                filled[axis][rest % n] = True
                rest //= n
    return [[p for p in range(n) if not flag or filled[axis][p]] for axis, (n, flag) in enumerate(zip(sizes, flags))]


def _cells(
    sets: Sequence[SetValue], kept: Sequence[Sequence[int]], values: Sequence[Any], coordinates: Sequence[dict[str, MdxMember]]
) -> list[MdxCell]:
    sizes = [len(s.tuples) for s in sets]
    strides = [math.prod(sizes[:i]) for i in range(len(sizes))]
    cells = []
    formatted: dict[tuple[Any, str, type], str] = {}
    for ordinal, positions in enumerate(itertools.product(*reversed(kept))):
        old = sum(p * s for p, s in zip(reversed(positions), strides))
        value = _plain(values[old])
        measure = coordinates[old][MEASURES_HIERARCHY]
        format_string = measure.format_string or "#,##0"
        memo = (value, format_string, type(value))
        text = formatted.get(memo)
        if text is None:
            text = formatted[memo] = (
                format_value(value, format_string) if not isinstance(values[old], str) else values[old]
            )
        cells.append(MdxCell(ordinal, value, text, format_string))
    return cells


def _plain(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return None


def _axis(ordinal: int, tuples: Sequence[MdxTuple], properties: tuple[str, ...], unfiltered: SetValue) -> MdxAxis:
    """The axis as shown; its hierarchies come from the set before NON EMPTY, so an axis left
    empty still says which hierarchies it holds."""
    infos: list[tuple[MemberInfo, ...]] = []
    made: dict[tuple[MdxMember, bool], MemberInfo] = {}  # crossjoins repeat members many times
    for index, members in enumerate(tuples):
        following = tuples[index + 1] if index + 1 < len(tuples) else None
        row = []
        for position, member in enumerate(members):
            key = (member, _drilled(members, following, position))
            info = made.get(key)
            if info is None:
                info = made[key] = member.info(drilled_down=key[1])
            row.append(info)
        infos.append(tuple(row))
    hierarchy_infos = tuple(_hierarchy_info(m) for m in unfiltered.tuples[0]) if unfiltered.tuples else ()
    return MdxAxis(ordinal, hierarchy_infos, tuple(infos), properties)


def _drilled(members: MdxTuple, following: MdxTuple | None, position: int) -> bool:
    """The next tuple repeats the members before this one and holds one of this member's children."""
    if following is None or following[:position] != members[:position]:
        return False
    member, next_member = members[position], following[position]
    return member.is_ancestor_of(next_member) and next_member.depth == member.depth + 1


def _hierarchy_info(member: MdxMember) -> HierarchyInfo:
    return _hierarchy(member.hierarchy)


def _hierarchy(hierarchy: HierarchyRef | None) -> HierarchyInfo:
    if hierarchy is None:
        return HierarchyInfo(MEASURES_HIERARCHY, "Measures", MEASURES_HIERARCHY, None)
    dimension_unique_name = "[" + hierarchy.dimension.name.replace("]", "]]") + "]"
    return HierarchyInfo(hierarchy.unique_name, hierarchy.hierarchy.name, dimension_unique_name, hierarchy.all_unique_name)


def _slicer_axis(binder: Binder, sets: Sequence[SetValue]) -> MdxAxis:
    """Every hierarchy not on an axis, at its WHERE member or default member (XMLA's SlicerAxis)."""
    on_axes = {m.hierarchy_name for s in sets if s.tuples for m in s.tuples[0]}
    members: list[MdxMember] = []
    for hierarchy in hierarchies(binder.cube):
        if hierarchy.unique_name not in on_axes:
            members.append(binder.context.get(hierarchy.unique_name) or binder.reader.all_member(hierarchy))
    if MEASURES_HIERARCHY not in on_axes:
        members.append(binder.coordinate()[MEASURES_HIERARCHY])
    return MdxAxis(-1, tuple(_hierarchy_info(m) for m in members), (tuple(m.info() for m in members),))
