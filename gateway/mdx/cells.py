"""Cell values for MDX coordinates, computed by the engine one grain at a time.

A coordinate names one member per hierarchy it touches and one measure. Its *grain* is which
level each hierarchy is at (All members drop out) plus the restrictions on the rows (WHERE
sets, Excel's subselect filters, aggregated members). Coordinates of one grain are answered by
one engine query: the levels go on the rows as explicit member sets, the restrictions become
slicers. So a total is always aggregated by the database at its own grain (distinct counts,
ratios, averages and running totals included), never added up from finer cells; a pivot with
subtotals costs one statement per distinct grain, bounded by ``MAX_GRAINS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.engine.cellset import CellSet
from gateway.engine.names import member_unique_name
from gateway.engine.plan import MAX_EXPLICIT_MEMBERS
from gateway.engine.query import AxisItem, CubeQuery, LevelItem, MemberSetItem
from gateway.engine.resolve import LevelRef
from gateway.errors import LimitExceededError
from gateway.mdx.members import MdxMember, Restriction
from gateway.model.types import Cube

Value = int | float | None
Coordinate = Mapping[str, MdxMember]  # hierarchy unique name ('[Measures]' too) → member
RunQuery = Callable[[CubeQuery], CellSet]

MAX_GRAINS = 64


@dataclass
class _Grain:
    levels: tuple[LevelRef, ...]
    slicers: tuple[Restriction, ...]
    keys: list[dict[str, None]] = field(default_factory=list)  # per level: the member keys needed
    measures: dict[str, None] = field(default_factory=dict)


def compute_cells(
    cube: Cube, coordinates: Sequence[Coordinate], *, run: RunQuery, restrictions: Sequence[Restriction] = ()
) -> list[Value]:
    """The value of each coordinate; every measure must be a model measure (not a calculated member)."""
    grains: dict[tuple[object, ...], _Grain] = {}
    placed: list[tuple[tuple[object, ...], tuple[str, ...], str] | None] = []
    for coordinate in coordinates:
        located = _locate(coordinate, restrictions)
        if located is None:
            placed.append(None)  # contradictory restrictions: no row can match
            continue
        levels, keys, slicers, measure = located
        grain_key = (tuple(ref.unique_name for ref in levels), tuple((r.unique_name, k) for r, k in slicers))
        grain = grains.get(grain_key)
        if grain is None:
            if len(grains) >= MAX_GRAINS:
                raise LimitExceededError(
                    f"The MDX query mixes more than {MAX_GRAINS} combinations of levels and totals; "
                    "ask for fewer levels at once."
                )
            grain = grains[grain_key] = _Grain(levels, slicers, [{} for _ in levels])
        for wanted, key in zip(grain.keys, keys):
            wanted[key] = None
        grain.measures[measure] = None
        placed.append((grain_key, keys, measure))
    answers = {grain_key: _answer(cube, grain, run) for grain_key, grain in grains.items()}
    return [None if p is None else answers[p[0]].get((p[1], p[2])) for p in placed]


def _locate(
    coordinate: Coordinate, restrictions: Sequence[Restriction]
) -> tuple[tuple[LevelRef, ...], tuple[str, ...], tuple[Restriction, ...], str] | None:
    """(levels in hierarchy order, their keys, merged slicers, measure unique name) or None if empty."""
    rows: list[tuple[LevelRef, str]] = []
    slicers: list[Restriction] = list(restrictions)
    measure = None
    for name in sorted(coordinate):
        member = coordinate[name]
        if member.is_measure:
            measure = member
        elif member.aggregate:
            slicers.extend(member.aggregate)
        elif member.depth >= 0 and member.level is not None:
            rows.append((member.level, member.path[-1]))
    if measure is None or measure.measure is None:
        raise ValueError("compute_cells needs one model measure per coordinate")
    merged: dict[str, tuple[LevelRef, frozenset[str]]] = {}
    for ref, keys in slicers:
        previous = merged.get(ref.unique_name)
        merged[ref.unique_name] = (ref, keys if previous is None else previous[1] & keys)
    if any(not keys for _, keys in merged.values()):
        return None
    ordered = tuple(merged[name] for name in sorted(merged))
    return (
        tuple(ref for ref, _ in rows),
        tuple(key for _, key in rows),
        ordered,
        measure.measure.unique_name,
    )


def _answer(cube: Cube, grain: _Grain, run: RunQuery) -> dict[tuple[tuple[str, ...], str], Value]:
    """One engine query for the grain: values by (row keys, measure unique name)."""
    items: list[AxisItem] = []
    for ref, keys in zip(grain.levels, grain.keys):
        if len(keys) > MAX_EXPLICIT_MEMBERS:
            items.append(LevelItem(ref.unique_name))
        else:
            items.append(
                MemberSetItem(tuple(member_unique_name(ref.dimension, ref.hierarchy, ref.level, k) for k in keys))
            )
    slicers = tuple(
        member_unique_name(ref.dimension, ref.hierarchy, ref.level, key) for ref, keys in grain.slicers for key in sorted(keys)
    )
    query = CubeQuery(cube.name, tuple(grain.measures), rows=tuple(items), slicers=slicers, non_empty=True)
    result = run(query)
    measures = [t.members[-1].unique_name for t in result.axes[0].tuples]
    width = len(measures)
    values: dict[tuple[tuple[str, ...], str], Value] = {}
    for row_index, row in enumerate(result.axes[1].tuples):
        keys = tuple(m.key for m in row.members)
        for column, measure in enumerate(measures):
            values[(keys, measure)] = result.cells[row_index * width + column].value
    return values
