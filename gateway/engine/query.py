"""A cube query as the client states it: unique names only, nothing resolved yet.

The API layer builds these from its own input types; the engine validates them in ``plan.py``.
Every string here is untrusted and reaches SQL only by being looked up in the cube model
(identifiers) or as a bound parameter after it was found in a dimension table (member keys).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LevelItem:
    """All members of one level: ``[Tid].[Tid].[Måned]`` or short ``[Tid].[Måned]``."""

    level: str


@dataclass(frozen=True, slots=True)
class MemberSetItem:
    """Explicit members, all of one level: ``([Køn].[Køn].&[K], [Køn].[Køn].&[M])``.

    They are shown in the level's order (like every axis), not in the order written.
    """

    members: tuple[str, ...]


AxisItem = LevelItem | MemberSetItem


@dataclass(frozen=True, slots=True)
class Order:
    """Sort the rows by a measure's value or by a level's own order (``by`` is a unique name)."""

    by: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class CubeQuery:
    """Measures go on the columns axis after any column levels (XMLA: columns × measures).

    ``columns`` and ``rows`` are crossjoins of their items. ``slicers`` are members: several
    of one level are OR-ed, different levels AND-ed. ``exclude_slicers`` are members left out:
    every member of their level but these (``DST Handling <> 'Ukendt'``), AND-ed with the rest.
    ``limit``/``offset`` page the rows.
    """

    cube: str
    measures: tuple[str, ...]
    columns: tuple[AxisItem, ...] = ()
    rows: tuple[AxisItem, ...] = ()
    slicers: tuple[str, ...] = ()
    exclude_slicers: tuple[str, ...] = ()
    non_empty: bool = False
    order: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0
