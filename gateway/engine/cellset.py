"""The answer: axes of member tuples and cells numbered row-major, or the same as a rowset.

Axis 0 holds the column tuples: (column members ×) measures, XMLA style. Axis 1 holds the row
tuples (one empty tuple when the query has no row levels). Cell ordinal =
row_index * column_count + column_index; every cell is present, empty ones with value None.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from gateway.engine.format import formatter
from gateway.engine.names import key_text

if TYPE_CHECKING:
    from gateway.engine.compile import Labels
    from gateway.engine.plan import Plan

Value = int | float | None
MEASURES_LEVEL = "[Measures].[MeasuresLevel]"


@dataclass(frozen=True, slots=True)
class Member:
    unique_name: str
    caption: str
    level_unique_name: str
    level_depth: int
    key: str


@dataclass(frozen=True, slots=True)
class Tuple:
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Axis:
    ordinal: int  # 0 = columns, 1 = rows
    tuples: tuple[Tuple, ...]


class Cell(NamedTuple):
    """One cell (a named tuple: an answer holds hundreds of thousands, made ~5× faster than a
    frozen dataclass)."""

    ordinal: int
    value: Value
    formatted_value: str


@dataclass(frozen=True, slots=True)
class RowsetColumn:
    name: str  # what a person reads: level name, or captions joined with " / "
    unique_name: str


@dataclass(frozen=True, slots=True)
class Rowset:
    """Tabular form: one column per row level (member captions), one per column tuple (values)."""

    columns: tuple[RowsetColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    data_as_of: dt.date | dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CellSet:
    cube: str
    axes: tuple[Axis, Axis]
    cells: tuple[Cell, ...]
    row_levels: tuple[str, ...]  # level names of the row axis, for the rowset's headers
    row_level_unique_names: tuple[str, ...]
    data_as_of: dt.date | dt.datetime | None = None

    @property
    def column_count(self) -> int:
        return len(self.axes[0].tuples)

    def cell(self, column: int, row: int) -> Cell:
        return self.cells[row * self.column_count + column]

    def to_rowset(self) -> Rowset:
        columns = [RowsetColumn(n, u) for n, u in zip(self.row_levels, self.row_level_unique_names)]
        for column in self.axes[0].tuples:
            columns.append(
                RowsetColumn(
                    " / ".join(m.caption for m in column.members), ".".join(m.unique_name for m in column.members)
                )
            )
        rows = []
        for index, row in enumerate(self.axes[1].tuples):
            start = index * self.column_count
            values = [c.value for c in self.cells[start : start + self.column_count]]
            rows.append(tuple(m.caption for m in row.members) + tuple(values))
        return Rowset(tuple(columns), tuple(rows), self.data_as_of)


def normalize(value: object) -> Value:
    """Database numbers → int or float, the same on DuckDB and PostgreSQL."""
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value  # type: ignore[return-value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return int(value)
    return float(value)  # type: ignore[arg-type]


_PLAIN_VALUES = frozenset({int, float, type(None)})

Data = dict[tuple[str, ...], tuple[Value, ...]]  # member key texts of a cell -> its measure values


def result_data(labels: Labels, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Data:
    """The statement's rows by their member keys (as text), values normalized.

    Column-wise (``zip``) rather than per row and per value: a 784-cell answer is a handful of
    C-level passes, and a column of plain ints or floats (DuckDB) is not touched at all.
    """
    if not rows:
        return {}
    position = {name: i for i, name in enumerate(columns)}
    by_column = list(zip(*rows))
    keys = [_key_texts(by_column[position[k]]) for k in labels.keys]
    values = [_normalized(by_column[position[m]]) for m in labels.measures]
    key_tuples = zip(*keys) if keys else [() for _ in rows]
    return dict(zip(key_tuples, zip(*values) if values else [() for _ in rows]))


def _key_texts(column: Sequence[object]) -> Sequence[str]:
    if set(map(type, column)) == {str}:
        return column  # type: ignore[return-value]  # compiled statements cast keys to text
    return [key_text(v) for v in column]


def _normalized(column: Sequence[object]) -> Sequence[Value]:
    if set(map(type, column)) <= _PLAIN_VALUES:
        return column  # type: ignore[return-value]
    return [normalize(v) for v in column]


def measure_member(name: str, unique_name: str) -> Member:
    return Member(unique_name, name, MEASURES_LEVEL, 0, name)


def build_cellset(
    plan: Plan,
    data: Data,
    axis_members: Sequence[Sequence[Member]],
    *,
    data_as_of: dt.date | dt.datetime | None = None,
) -> CellSet:
    """Pivot the statement's values (:func:`result_data`) onto the axes; apply non-empty, order
    and row paging."""
    column_count = len(plan.columns)
    column_lists = [list(ms) for ms in axis_members[:column_count]]
    row_lists = [list(ms) for ms in axis_members[column_count:]]
    for order in plan.order:
        if order.level is not None and order.descending:
            for axis, members in zip(plan.columns, column_lists):
                if axis.ref == order.level:
                    members.reverse()

    # rows: (members, keys); columns: (members, keys, measure index). Keys are plain text
    # tuples, so the pivot hashes strings, never the member objects.
    columns = [
        (combo, tuple(m.key for m in combo), index)
        for combo in itertools.product(*column_lists)
        for index in range(len(plan.measures))
    ]
    row_lines = [(combo, tuple(m.key for m in combo)) for combo in itertools.product(*row_lists)]

    def value(row: tuple, column: tuple) -> Value:
        found = data.get(column[1] + row[1])
        return None if found is None else found[column[2]]

    if plan.non_empty:
        row_lines, columns = _non_empty(data, column_count, row_lines, columns)
    row_lines = _ordered(plan, row_lines, row_lists, columns, value)
    end = None if plan.limit is None else plan.offset + plan.limit
    row_lines = row_lines[plan.offset : end]

    cells = []
    formatters = [formatter(m.format) for m in plan.measures]
    formatted: dict[tuple[Value, int, type], str] = {}  # counts repeat a lot: format each once
    ordinal = 0
    for row in row_lines:
        row_keys = row[1]
        for _members, column_keys, index in columns:
            found = data.get(column_keys + row_keys)
            cell_value = None if found is None else found[index]
            memo = (cell_value, index, type(cell_value))
            text = formatted.get(memo)
            if text is None:
                text = formatted[memo] = formatters[index](cell_value)
            cells.append(Cell(ordinal, cell_value, text))
            ordinal += 1
    measure_members = [measure_member(m.name, m.unique_name) for m in plan.measures]
    column_tuples = tuple(Tuple(combo + (measure_members[i],)) for combo, _, i in columns)
    return CellSet(
        cube=plan.cube.name,
        axes=(Axis(0, column_tuples), Axis(1, tuple(Tuple(r[0]) for r in row_lines))),
        cells=tuple(cells),
        row_levels=tuple(a.ref.level.name for a in plan.rows),
        row_level_unique_names=tuple(a.ref.unique_name for a in plan.rows),
        data_as_of=data_as_of,
    )


def _non_empty(data: Data, column_count: int, rows: list, columns: list) -> tuple[list, list]:
    """The rows and the columns that hold at least one value, found from the values there are
    (not by asking every row × column): a value's keys are its column keys, then its row keys."""
    row_keys = {r[1] for r in rows}
    column_keys = {c[1] for c in columns}
    filled_rows: set[tuple[str, ...]] = set()
    filled_columns: set[tuple[tuple[str, ...], int]] = set()
    for keys, values in data.items():
        on_row, on_column = keys[column_count:], keys[:column_count]
        if on_row not in row_keys or on_column not in column_keys:
            continue
        for index, found in enumerate(values):
            if found is not None:
                filled_rows.add(on_row)
                filled_columns.add((on_column, index))
    return [r for r in rows if r[1] in filled_rows], [c for c in columns if (c[1], c[2]) in filled_columns]


def _ordered(plan: Plan, rows: list, row_lists: list, columns: list, value: Any) -> list:
    """Stable sorts from the last order to the first, so the first order is the primary key.

    A level sorts by its own member order; a measure by its total over the column tuples
    shown (its value, when only measures are on the columns). Empty values sort last.
    """
    for order in reversed(plan.order):
        if order.level is not None:
            positions = [i for i, a in enumerate(plan.rows) if a.ref == order.level]
            if not positions:
                continue  # a column level: its member order was already reversed
            level = positions[0]
            place = {m.key: n for n, m in enumerate(row_lists[level])}
            rows = sorted(rows, key=lambda r: place[r[1][level]], reverse=order.descending)
            continue
        index = plan.measures.index(order.measure)
        measure_columns = [c for c in columns if c[2] == index]
        totals = []
        for row in rows:
            values = [v for v in (value(row, c) for c in measure_columns) if v is not None]
            totals.append((row, sum(values) if values else None))
        present = [t for t in totals if t[1] is not None]
        present.sort(key=lambda t: t[1], reverse=order.descending)
        rows = [t[0] for t in present] + [t[0] for t in totals if t[1] is None]
    return rows
