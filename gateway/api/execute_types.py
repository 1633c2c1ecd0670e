"""Execute's GraphQL shapes: the query input, the cell set and the rowset.

Field names follow XMLA where XMLA has one (axes, tuples, members, cells with ordinal, value
and formatted value); the cube query itself is plain GraphQL input rather than an MDX string,
so a client cannot smuggle anything past the model: every name is resolved by the planner.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.engine import cellset as engine

AXIS_NAMES = ("COLUMNS", "ROWS")


@strawberry.input(description="One item of an axis: all members of a level, or an explicit set of members.")
class AxisItemInput:
    level: str | None = strawberry.field(default=None, description="Level unique name, e.g. [Tid].[Tid].[Måned].")
    members: list[str] | None = strawberry.field(
        default=None, description="Member unique names of one level, e.g. [Køn].[Køn].&[K]."
    )


@strawberry.input(description="Sort rows by a measure or by a level's own order.")
class OrderInput:
    measure: str | None = None
    level: str | None = None
    descending: bool = False


@strawberry.input(description="A cube query: measures on columns, levels or member sets on columns and rows.")
class CubeQueryInput:
    cube: str
    measures: list[str]
    columns: list[AxisItemInput] = strawberry.field(default_factory=list)
    rows: list[AxisItemInput] = strawberry.field(default_factory=list)
    slicers: list[str] = strawberry.field(
        default_factory=list, description="Members to filter by: same level = OR, different levels = AND."
    )
    exclude_slicers: list[str] = strawberry.field(
        default_factory=list,
        description="Members to leave out: every member of their level but these (DST Handling <> 'Ukendt').",
    )
    non_empty: bool = True
    order_by: list[OrderInput] = strawberry.field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    totals: bool = strawberry.field(
        default=False,
        description=(
            "Add the All member (total) after the members of every axis level: subtotals and grand totals, "
            "each computed by the database at its own grain (distinct counts, ratios and running totals stay "
            "right). Not with orderBy, limit or offset; at most 4 axis levels."
        ),
    )


@strawberry.type(
    description="A member on an axis (measures appear as members of [Measures]; a total is the All member, depth -1)."
)
class AxisMember:
    unique_name: str
    caption: str
    level_unique_name: str
    depth: int
    key: str | None


@strawberry.type
class AxisTuple:
    ordinal: int
    members: list[AxisMember]


@strawberry.type
class Axis:
    ordinal: int
    name: str = strawberry.field(description="COLUMNS (0) or ROWS (1).")
    tuples: list[AxisTuple]


@strawberry.type(description="One cell; ordinal = row index × number of column tuples + column index.")
class Cell:
    ordinal: int
    value: float | None
    formatted_value: str | None


@strawberry.type
class CellSet:
    axes: list[Axis]
    cells: list[Cell]


@strawberry.type
class RowsetColumn:
    name: str
    unique_name: str
    kind: str = strawberry.field(description="'level' or 'measure'.")


@strawberry.type(description="The same result as a table: one column per row level and per column tuple.")
class Rowset:
    columns: list[RowsetColumn]
    rows: JSON = strawberry.field(description="A list of rows, each a list of values in column order.")


@strawberry.type
class ExecuteResult:
    """Both shapes come from one engine result, each built only when the client asks for it."""

    catalog: str
    cube: str
    data_as_of: dt.date | None
    _result: strawberry.Private[Any]  # gateway.engine.cellset.CellSet

    @strawberry.field
    def cell_set(self) -> CellSet:
        return cell_set_view(self._result)

    @strawberry.field
    def rowset(self) -> Rowset:
        return rowset_view(self._result)


def cell_set_view(cellset: engine.CellSet) -> CellSet:
    return CellSet(
        axes=[
            Axis(
                ordinal=axis.ordinal,
                name=AXIS_NAMES[axis.ordinal],
                tuples=[
                    AxisTuple(ordinal=ordinal, members=[_member(m) for m in item.members])
                    for ordinal, item in enumerate(axis.tuples)
                ],
            )
            for axis in cellset.axes
        ],
        cells=[Cell(ordinal=c.ordinal, value=c.value, formatted_value=c.formatted_value) for c in cellset.cells],
    )


def rowset_view(cellset: engine.CellSet) -> Rowset:
    rowset = cellset.to_rowset()
    level_count = len(cellset.row_levels)
    return Rowset(
        columns=[
            RowsetColumn(name=c.name, unique_name=c.unique_name, kind="level" if i < level_count else "measure")
            for i, c in enumerate(rowset.columns)
        ],
        rows=[list(row) for row in rowset.rows],
    )


def _member(member: engine.Member) -> AxisMember:
    return AxisMember(
        unique_name=member.unique_name,
        caption=member.caption,
        level_unique_name=member.level_unique_name,
        depth=member.level_depth,
        key=None if member.level_depth < 0 else member.key,  # an All member (totals) has no key
    )
