"""What an MDX query answers: axes of member tuples, a slicer axis and cells, XMLA-shaped.

These objects are the contract between the MDX engine (``gateway.mdx``) and the doors that
write them (the XMLA ``mddataset`` and rowset writers). They hold only what a writer needs;
nothing here touches a database.

Cell ordinals follow XMLA: axis 0 varies fastest, so for axes of sizes ``s0, s1, ...`` and
positions ``p0, p1, ...`` the ordinal is ``p0 + p1 * s0 + p2 * s0 * s1 + ...``. Every cell is
present; an empty one has ``value`` None (a writer may leave it out of ``CellData``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

Value = int | float | None

MEASURES_HIERARCHY = "[Measures]"
MEASURES_LEVEL = "[Measures].[MeasuresLevel]"


@dataclass(frozen=True, slots=True)
class HierarchyInfo:
    """A hierarchy used on an axis (``OlapInfo/AxesInfo/AxisInfo/HierarchyInfo``)."""

    unique_name: str  # '[Tid].[Tid]', or '[Measures]'
    name: str  # 'Tid'
    dimension_unique_name: str  # '[Tid]'
    all_member_unique_name: str | None  # '[Tid].[Tid].[All]'; None for [Measures]


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One member of a tuple, with the properties XMLA clients read for every member.

    ``level_number`` counts from the All level (0), so a hierarchy's top level is 1; measures
    are at level 0 of ``[Measures]``. ``drilled_down`` is true when the member's children follow
    it on the same axis (Excel reads it from DisplayInfo to draw the expand/collapse button).
    """

    unique_name: str
    caption: str
    level_unique_name: str
    level_number: int
    hierarchy_unique_name: str
    parent_unique_name: str | None
    children_cardinality: int
    is_all: bool = False
    drilled_down: bool = False
    key: str | None = None  # the member key as text; None for All members and measures
    is_measure: bool = False

    @property
    def display_info(self) -> int:
        """XMLA DisplayInfo: children count (low 16 bits, capped) | 0x10000 when drilled down."""
        return min(self.children_cardinality, 0xFFFF) | (0x10000 if self.drilled_down else 0)


@dataclass(frozen=True, slots=True)
class MdxAxis:
    """One axis: its hierarchies in tuple order and its tuples (each one member per hierarchy)."""

    ordinal: int  # 0 = COLUMNS, 1 = ROWS, ...; the slicer axis has ordinal -1
    hierarchies: tuple[HierarchyInfo, ...]
    tuples: tuple[tuple[MemberInfo, ...], ...]
    properties: tuple[str, ...] = ()  # DIMENSION PROPERTIES asked for, as written (upper-cased)

    @property
    def name(self) -> str:
        return "SlicerAxis" if self.ordinal < 0 else f"Axis{self.ordinal}"

    def __len__(self) -> int:
        return len(self.tuples)


@dataclass(frozen=True, slots=True)
class MdxCell:
    ordinal: int
    value: Value
    formatted_value: str
    format_string: str


@dataclass(frozen=True, slots=True)
class MdxResult:
    catalog: str
    cube: str
    axes: tuple[MdxAxis, ...]
    slicer: MdxAxis | None
    cells: tuple[MdxCell, ...]  # every cell, in ordinal order
    cell_properties: tuple[str, ...] = ("VALUE", "FORMATTED_VALUE", "CELL_ORDINAL")
    data_as_of: dt.date | dt.datetime | None = None

    def ordinal(self, positions: tuple[int, ...]) -> int:
        """The cell ordinal of one position per axis (axis 0 first)."""
        ordinal, stride = 0, 1
        for position, axis in zip(positions, self.axes, strict=True):
            ordinal += position * stride
            stride *= len(axis)
        return ordinal

    def cell(self, *positions: int) -> MdxCell:
        return self.cells[self.ordinal(tuple(positions))]

    @property
    def cell_count(self) -> int:
        return math.prod(len(axis) for axis in self.axes) if self.axes else 1
