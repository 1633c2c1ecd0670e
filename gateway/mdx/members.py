"""Members as MDX sees them (with an All member per hierarchy) and how they are read.

A :class:`MemberReader` reads each level of a hierarchy once per statement, with every member's
path of keys from the top, its caption, its place in hierarchical order and how many children it
has, all in one grouped SELECT of the dimension table. Children, parents, descendants and
hierarchical order are then answered from those lists without going back to the database.

Restrictions (Excel's filters, sent as subselects) keep only the dimension rows they name, so
navigation shows only members that exist under the filter, as SSAS's autoexists does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.engine.cache import VersionMemo
from gateway.engine.names import hierarchy_unique_name, key_text, member_unique_name
from gateway.engine.resolve import LevelRef
from gateway.engine.tables import dimension_alias
from gateway.errors import LimitExceededError
from gateway.mdx.result import MEASURES_HIERARCHY, MEASURES_LEVEL, MemberInfo
from gateway.model.types import Cube, Dimension, Hierarchy, Measure, bracket

MAX_LEVEL_MEMBERS = 200_000
ALL_NAME = "All"
ALL_LEVEL_NAME = "(All)"


@dataclass(frozen=True, slots=True)
class HierarchyRef:
    """A hierarchy located in its cube; names and level references are worked out once."""

    dimension: Dimension
    hierarchy: Hierarchy
    unique_name: str = field(init=False, compare=False, repr=False)
    levels: tuple[LevelRef, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unique_name", hierarchy_unique_name(self.dimension, self.hierarchy))
        refs = tuple(LevelRef(self.dimension, self.hierarchy, level) for level in self.hierarchy.levels)
        object.__setattr__(self, "levels", refs)

    def __hash__(self) -> int:
        return hash(self.unique_name)

    @property
    def all_unique_name(self) -> str:
        return self.unique_name + "." + bracket(ALL_NAME)

    @property
    def all_level_unique_name(self) -> str:
        return self.unique_name + "." + bracket(ALL_LEVEL_NAME)

    def level(self, depth: int) -> LevelRef:
        return self.levels[depth]

    @property
    def bottom(self) -> int:
        return len(self.hierarchy.levels) - 1


Restriction = tuple[LevelRef, frozenset[str]]  # rows of the dimension whose level key (as text) is one of these


@dataclass(frozen=True, slots=True, eq=False)
class MdxMember:
    """A member of a hierarchy (``depth`` -1 is its All member) or a measure.

    Equality goes by unique name and ``aggregate``, hashing by unique name. ``aggregate`` marks a
    member standing for several members of one level (a WHERE set, ``Aggregate(...)``, a visual
    total): its cells are computed over those members' rows.
    """

    unique_name: str
    caption: str
    hierarchy: HierarchyRef | None  # None for measures
    depth: int = -1
    path: tuple[str, ...] = ()  # key texts from the top level down to this member
    sort: tuple[Any, ...] = ()  # hierarchical order: a parent sorts before its children
    children: int = 0
    measure: Measure | None = None
    calculated: str | None = None  # name of a WITH MEMBER calculated measure
    format_string: str | None = None
    aggregate: tuple[Restriction, ...] = ()
    hierarchy_name: str = field(init=False, repr=False)
    level: LevelRef | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        hierarchy = self.hierarchy
        object.__setattr__(self, "hierarchy_name", MEASURES_HIERARCHY if hierarchy is None else hierarchy.unique_name)
        object.__setattr__(self, "level", None if hierarchy is None or self.depth < 0 else hierarchy.level(self.depth))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MdxMember) and other.unique_name == self.unique_name and other.aggregate == self.aggregate
        )

    def __hash__(self) -> int:
        return hash(self.unique_name)

    @property
    def is_measure(self) -> bool:
        return self.hierarchy is None

    @property
    def is_all(self) -> bool:
        return self.hierarchy is not None and self.depth < 0 and not self.aggregate

    @property
    def key(self) -> str | None:
        return self.path[-1] if self.path else None

    @property
    def parent_unique_name(self) -> str | None:
        if self.hierarchy is None or self.depth < 0:
            return None
        if self.depth == 0:
            return self.hierarchy.all_unique_name
        parent = self.hierarchy.level(self.depth - 1)
        return member_unique_name(parent.dimension, parent.hierarchy, parent.level, self.path[-2])

    def is_ancestor_of(self, other: MdxMember) -> bool:
        if self.hierarchy is None or other.hierarchy is None or self.hierarchy != other.hierarchy:
            return False
        if self.depth < 0:
            return other.depth >= 0 or bool(other.aggregate)
        return other.depth > self.depth and other.path[: self.depth + 1] == self.path

    def info(self, *, drilled_down: bool = False) -> MemberInfo:
        if self.hierarchy is None:
            return MemberInfo(
                unique_name=self.unique_name,
                caption=self.caption,
                level_unique_name=MEASURES_LEVEL,
                level_number=0,
                hierarchy_unique_name=MEASURES_HIERARCHY,
                parent_unique_name=None,
                children_cardinality=0,
                is_measure=True,
            )
        level = self.level
        return MemberInfo(
            unique_name=self.unique_name,
            caption=self.caption,
            level_unique_name=self.hierarchy.all_level_unique_name if level is None else level.unique_name,
            level_number=self.depth + 1,
            hierarchy_unique_name=self.hierarchy.unique_name,
            parent_unique_name=self.parent_unique_name,
            children_cardinality=self.children,
            is_all=self.depth < 0,
            drilled_down=drilled_down,
            key=self.key,
        )


def measure_member(measure: Measure) -> MdxMember:
    return MdxMember(measure.unique_name, measure.name, None, measure=measure, format_string=measure.format)


def hierarchies(cube: Cube) -> tuple[HierarchyRef, ...]:
    return tuple(HierarchyRef(d, h) for d in cube.dimensions for h in d.hierarchies)


@dataclass
class MemberReader:
    """Reads and remembers levels for one statement; ``restrictions`` filter navigation by dimension."""

    connect: Callable[[], Connection]  # called once, on the first read the memo does not answer
    cube: Cube
    restrictions: dict[str, list[Restriction]] = field(default_factory=dict)
    memo: VersionMemo | None = None  # level reads of database versions, shared between requests
    version: Hashable | None = None  # the identity of the version read (None: nothing is shared)
    on_read: Callable[[LevelRef], None] = lambda ref: None  # told of every level read, memo or not (audit)
    _connection: Connection | None = None
    _top_counts: dict[str, int] = field(default_factory=dict)
    _levels: dict[tuple[str, bool], tuple[MdxMember, ...]] = field(default_factory=dict)
    _by_key: dict[str, dict[str, MdxMember]] = field(default_factory=dict)
    statements: int = 0  # statements this reader ran (the memo saves them across requests)

    def all_member(self, hierarchy: HierarchyRef) -> MdxMember:
        return MdxMember(hierarchy.all_unique_name, ALL_NAME, hierarchy, -1, (), (), self._top_count(hierarchy))

    def known_size(self, ref: LevelRef) -> int | None:
        """How many members the level shows under the restrictions, if it was read already."""
        restricted = bool(self.restrictions.get(ref.dimension.name))
        found = self._levels.get((ref.unique_name, restricted))
        return None if found is None else len(found)

    def known_keys(self, ref: LevelRef) -> frozenset[str] | None:
        """Every key of the level, unrestricted, if it was read already (naming a member reads it)."""
        found = self._levels.get((ref.unique_name, False))
        return None if found is None else frozenset(m.path[-1] for m in found)

    def _top_count(self, hierarchy: HierarchyRef) -> int:
        """Children of the All member: the top level's size, read with every other hierarchy's."""
        known = self.known_size(hierarchy.level(0))
        if known is not None:
            return known
        counts = self._top_counts.get(hierarchy.unique_name)
        if counts is None:
            everything = tuple(HierarchyRef(d, h) for d in self.cube.dimensions for h in d.hierarchies)
            shape = tuple(
                (name, tuple(sorted((r.unique_name, tuple(sorted(k))) for r, k in found)))
                for name, found in sorted(self.restrictions.items())
            )
            if self.memo is not None and self.version is not None:
                self._top_counts = self.memo.get_or_compute(
                    (self.version, "mdx-top", self.cube.name, shape), lambda: self._count_tops(everything)
                )
            else:
                self._top_counts = self._count_tops(everything)
            counts = self._top_counts[hierarchy.unique_name]
        return counts

    def _count_tops(self, hierarchies: Sequence[HierarchyRef]) -> dict[str, int]:
        """One statement: the number of top-level members of every hierarchy, under the restrictions."""
        self.statements += 1
        columns = []
        for index, hierarchy in enumerate(hierarchies):
            table = dimension_alias(self.cube, hierarchy.dimension, f"t{index}")
            key = table.c[hierarchy.hierarchy.levels[0].key_column]
            count = sa.select(sa.func.count(sa.distinct(key)))
            for level_ref, texts in self.restrictions.get(hierarchy.dimension.name, []):
                count = count.where(sa.cast(table.c[level_ref.level.key_column], sa.String).in_(sorted(texts)))
            columns.append(count.scalar_subquery().label(f"c{index}"))
        row = self._connect().execute(sa.select(*columns)).one()
        return {h.unique_name: int(row[i] or 0) for i, h in enumerate(hierarchies)}

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self.connect()
        return self._connection

    def level(self, ref: LevelRef, *, restricted: bool = True) -> tuple[MdxMember, ...]:
        """The level's members in hierarchical order; unrestricted lists serve name lookups."""
        restrictions = self.restrictions.get(ref.dimension.name, []) if restricted else []
        cache_key = (ref.unique_name, bool(restrictions))
        found = self._levels.get(cache_key)
        if found is None:
            self.on_read(ref)
            found = self._levels[cache_key] = self._remembered(ref, restrictions)
        return found

    def _remembered(self, ref: LevelRef, restrictions: Sequence[Restriction]) -> tuple[MdxMember, ...]:
        """A level's read depends only on the database version, the level and the restrictions."""
        if self.version is None or self.memo is None:
            return self._read(ref, restrictions)
        shape = tuple(sorted((r.unique_name, tuple(sorted(keys))) for r, keys in restrictions))
        return self.memo.get_or_compute(
            (self.version, "mdx-level", self.cube.name, ref.unique_name, shape),
            lambda: self._read(ref, restrictions),
            weight=len,
        )

    def forget(self) -> None:
        """Drop restricted level lists after the restrictions changed (unrestricted ones stay valid)."""
        self._levels = {k: v for k, v in self._levels.items() if not k[1]}
        self._top_counts = {}

    def lookup(self, ref: LevelRef, key: str) -> MdxMember | None:
        index = self._by_key.get(ref.unique_name)
        if index is None:
            index = self._by_key[ref.unique_name] = {m.path[-1]: m for m in self.level(ref, restricted=False)}
        return index.get(key)

    def children(self, member: MdxMember) -> tuple[MdxMember, ...]:
        hierarchy = member.hierarchy
        if hierarchy is None or member.aggregate or member.depth >= hierarchy.bottom:
            return ()
        below = self.level(hierarchy.level(member.depth + 1))
        if member.depth < 0:
            return below
        return tuple(m for m in below if m.path[: member.depth + 1] == member.path)

    def descendants_at(self, member: MdxMember, depth: int) -> tuple[MdxMember, ...]:
        hierarchy = member.hierarchy
        if hierarchy is None or depth < member.depth or depth > hierarchy.bottom:
            return ()
        if depth == member.depth:
            return (member,)
        found = self.level(hierarchy.level(depth))
        if member.depth < 0:
            return found
        return tuple(m for m in found if m.path[: member.depth + 1] == member.path)

    def parent(self, member: MdxMember) -> MdxMember | None:
        hierarchy = member.hierarchy
        if hierarchy is None or member.depth < 0:
            return None
        if member.depth == 0:
            return self.all_member(hierarchy)
        return self.lookup(hierarchy.level(member.depth - 1), member.path[-2])

    def _read(self, ref: LevelRef, restrictions: Sequence[Restriction]) -> tuple[MdxMember, ...]:
        """One grouped SELECT: path keys, order values, caption and child count of every member."""
        self.statements += 1
        hierarchy = HierarchyRef(ref.dimension, ref.hierarchy)
        table = dimension_alias(self.cube, ref.dimension)
        levels = ref.hierarchy.levels[: ref.depth + 1]
        keys = [table.c[level.key_column] for level in levels]
        columns: list[Any] = []
        for index, (level, key) in enumerate(zip(levels, keys)):
            columns.append(sa.cast(key, sa.String).label(f"k{index}"))
            columns.append(key.label(f"v{index}"))
            columns.append(sa.func.min(table.c[level.order_column]).label(f"o{index}"))
        columns.append(sa.cast(sa.func.min(table.c[ref.level.caption_column]), sa.String).label("caption"))
        if ref.depth < hierarchy.bottom:
            child = table.c[ref.hierarchy.levels[ref.depth + 1].key_column]
            columns.append(sa.func.count(sa.distinct(child)).label("children"))
        else:
            columns.append(sa.literal(0).label("children"))
        statement = sa.select(*columns).group_by(*keys).limit(MAX_LEVEL_MEMBERS + 1)
        for level_ref, texts in restrictions:
            statement = statement.where(sa.cast(table.c[level_ref.level.key_column], sa.String).in_(sorted(texts)))
        rows = self._connect().execute(statement).all()
        if len(rows) > MAX_LEVEL_MEMBERS:
            raise LimitExceededError(
                f"The level '{ref.unique_name}' has more than {MAX_LEVEL_MEMBERS:,} members; MDX reads it whole."
            )
        members = []
        for row in rows:
            mapping = row._mapping
            path = tuple(key_text(mapping[f"k{i}"]) for i in range(len(levels)))
            sort = tuple(
                (mapping[f"o{i}"] is None, _comparable(mapping[f"o{i}"]), _comparable(mapping[f"v{i}"]))
                for i in range(len(levels))
            )
            caption = mapping["caption"]
            members.append(
                MdxMember(
                    unique_name=member_unique_name(ref.dimension, ref.hierarchy, ref.level, path[-1]),
                    caption=path[-1] if caption is None else str(caption),
                    hierarchy=hierarchy,
                    depth=ref.depth,
                    path=path,
                    sort=sort,
                    children=int(mapping["children"] or 0),
                )
            )
        members.sort(key=lambda m: m.sort)
        return tuple(members)


def _comparable(value: object) -> tuple[int, Any]:
    """Order values of one column share a type; None and mixed types still compare safely."""
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float | Decimal):
        return (1, value)
    return (2, str(value)) if not hasattr(value, "isoformat") else (2, value.isoformat())  # type: ignore[attr-defined]
