"""Subtotals and grand totals: every axis level gains its All member, computed at its own grain.

For a query with axis levels ``L1..Ln`` each subset of the levels is one grain; the engine runs
one query per grain with the other levels rolled up, so every total is aggregated by the
database over the rows it covers (distinct counts, ratios, averages and running totals stay
right), never added up from the cells shown. A rolled-up level that showed an explicit member
set becomes a slicer on those members: a total covers exactly the members on its axis.

The answer is an ordinary cell set whose axis levels list their members and then the All
member (depth -1, caption "All"), so a client reads subtotal rows like any other row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

from gateway.engine.cellset import Axis, Cell, CellSet, Member, Tuple, Value, measure_member
from gateway.engine.format import format_value
from gateway.engine.names import parse_unique_name
from gateway.engine.query import AxisItem, CubeQuery, MemberSetItem
from gateway.errors import QueryError
from gateway.engine.resolve import resolve_measure, resolve_member
from gateway.model.types import Cube, bracket

MAX_TOTAL_LEVELS = 4  # 2**4 = 16 statements at most
ALL_CAPTION = "All"
RunQuery = Callable[[CubeQuery], CellSet]


def with_totals(query: CubeQuery, cube: Cube, run: RunQuery) -> CellSet:
    """``cube`` is the model the query names (as the caller sees it), for measures and members."""
    if query.order or query.limit is not None or query.offset:
        raise QueryError("Totals cannot be combined with orderBy, limit or offset.")
    measures = [resolve_measure(cube, name) for name in query.measures]
    items = query.columns + query.rows
    if len(items) > MAX_TOTAL_LEVELS:
        raise QueryError(f"Totals are available for at most {MAX_TOTAL_LEVELS} axis levels.")
    detail = run(replace(query, non_empty=False))
    levels = _level_members(detail, len(query.columns), len(query.rows))
    alls = [_all_member(level) for level in levels]
    grains: dict[tuple[bool, ...], dict[tuple[str, ...], tuple[Value, ...]]] = {
        (True,) * len(items): _values(detail, len(query.columns))
    }
    for kept in itertools.product((True, False), repeat=len(items)):
        if all(kept):
            continue
        rolled = _rolled_up(query, cube, kept)
        grains[kept] = {} if rolled is None else _values(run(rolled), sum(kept[: len(query.columns)]))
    width = len(measures)
    measure_members = [measure_member(m.name, m.unique_name) for m in measures]
    column_lists = [list(ms) + [a] for ms, a in zip(levels[: len(query.columns)], alls)]
    row_lists = [list(ms) + [a] for ms, a in zip(levels[len(query.columns) :], alls[len(query.columns) :])]
    columns = [(combo, i) for combo in itertools.product(*column_lists) for i in range(width)]
    rows = list(itertools.product(*row_lists))

    def value(row: tuple[Member, ...], column: tuple[tuple[Member, ...], int]) -> Value:
        members = column[0] + row
        kept = tuple(m.level_depth >= 0 for m in members)
        found = grains[kept].get(tuple(m.key for m in members if m.level_depth >= 0))
        return None if found is None else found[column[1]]

    if query.non_empty:
        rows = [r for r in rows if any(value(r, c) is not None for c in columns)]
        columns = [c for c in columns if any(value(r, c) is not None for r in rows)]
    cells = []
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            cell_value = value(row, column)
            cells.append(Cell(r * len(columns) + c, cell_value, format_value(cell_value, measures[column[1]].format)))
    column_tuples = tuple(Tuple(combo + (measure_members[i],)) for combo, i in columns)
    return CellSet(
        cube=detail.cube,
        axes=(Axis(0, column_tuples), Axis(1, tuple(Tuple(r) for r in rows))),
        cells=tuple(cells),
        row_levels=detail.row_levels,
        row_level_unique_names=detail.row_level_unique_names,
        data_as_of=detail.data_as_of,
    )


def _level_members(detail: CellSet, columns: int, rows: int) -> list[list[Member]]:
    """Each axis level's members in order, read back from the detail grain's product of them."""
    found: list[dict[str, Member]] = [{} for _ in range(columns + rows)]
    for column in detail.axes[0].tuples:
        for index, member in enumerate(column.members[:-1]):
            found[index].setdefault(member.unique_name, member)
    for row in detail.axes[1].tuples:
        for index, member in enumerate(row.members):
            found[columns + index].setdefault(member.unique_name, member)
    return [list(level.values()) for level in found]


def _all_member(members: Sequence[Member]) -> Member:
    """The All member of the level's hierarchy, ``[Dimension].[Hierarchy].[All]``."""
    if not members:
        return Member("[All]", ALL_CAPTION, "[(All)]", -1, "")
    parts = parse_unique_name(members[0].level_unique_name).parts[:2]
    hierarchy = ".".join(bracket(p) for p in parts)
    return Member(hierarchy + ".[All]", ALL_CAPTION, hierarchy + ".[(All)]", -1, "")


def _rolled_up(query: CubeQuery, cube: Cube, kept: tuple[bool, ...]) -> CubeQuery | None:
    """The query at a coarser grain; None when its slicers leave no row (the totals are empty).

    A rolled-up member set becomes a slicer. Slicers of one level are OR-ed, so where the query
    already slices that level the two are intersected here instead.
    """
    items = query.columns + query.rows
    slicers = list(query.slicers)
    for item, keep in zip(items, kept):
        if keep or not isinstance(item, MemberSetItem):
            continue
        shown = {_member_key(cube, name) for name in item.members}
        level = next(iter(shown))[0]
        same_level = [name for name in slicers if _member_key(cube, name)[0] == level]
        if same_level:
            wanted = {_member_key(cube, name) for name in same_level} & shown
            if not wanted:
                return None
            slicers = [name for name in slicers if name not in same_level]
            slicers.extend(name for name in item.members if _member_key(cube, name) in wanted)
        else:
            slicers.extend(item.members)
    columns: tuple[AxisItem, ...] = tuple(i for i, k in zip(query.columns, kept) if k)
    rows: tuple[AxisItem, ...] = tuple(i for i, k in zip(query.rows, kept[len(query.columns) :]) if k)
    return replace(query, columns=columns, rows=rows, slicers=tuple(slicers), non_empty=True)


def _member_key(cube: Cube, name: str) -> tuple[str, str]:
    member = resolve_member(cube, name)
    return member.level.unique_name, member.key


def _values(result: CellSet, column_levels: int) -> dict[tuple[str, ...], tuple[Value, ...]]:
    """Values by the kept levels' keys (columns' first), one value per measure."""
    width = result.column_count
    measures = len({t.members[-1].unique_name for t in result.axes[0].tuples}) or 1
    values: dict[tuple[str, ...], list[Value]] = {}
    for r, row in enumerate(result.axes[1].tuples):
        for c, column in enumerate(result.axes[0].tuples):
            keys = tuple(m.key for m in column.members[:-1]) + tuple(m.key for m in row.members)
            slot = values.setdefault(keys, [None] * measures)
            slot[c % measures] = result.cells[r * width + c].value
    return {k: tuple(v) for k, v in values.items()}
