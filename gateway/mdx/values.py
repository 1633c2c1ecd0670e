"""What MDX expressions evaluate to while binding: members, tuples, sets, levels, hierarchies."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.engine.resolve import LevelRef
from gateway.mdx.members import HierarchyRef, MdxMember
from gateway.model.types import Dimension

MdxTuple = tuple[MdxMember, ...]


@dataclass(frozen=True, slots=True)
class SetValue:
    tuples: tuple[MdxTuple, ...]


@dataclass(frozen=True, slots=True)
class TupleValue:
    members: MdxTuple


@dataclass(frozen=True, slots=True)
class LevelValue:
    ref: LevelRef


@dataclass(frozen=True, slots=True)
class AllLevelValue:
    """``[Køn].[Køn].[(All)]``: the level holding only the All member (Excel lists its members)."""

    hierarchy: HierarchyRef


@dataclass(frozen=True, slots=True)
class HierarchyValue:
    ref: HierarchyRef | None  # None: [Measures]


@dataclass(frozen=True, slots=True)
class DimensionValue:
    dimension: Dimension


Value = SetValue | TupleValue | LevelValue | AllLevelValue | HierarchyValue | DimensionValue | MdxMember | int | float | str | bool | None
