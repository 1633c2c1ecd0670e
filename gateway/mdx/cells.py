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
    cube: Cube,
    coordinates: Sequence[Coordinate],
    *,
    run: RunQuery,
    restrictions: Sequence[Restriction] = (),
    level_size: Callable[[LevelRef], int | None] = lambda ref: None,
    level_keys: Callable[[LevelRef], frozenset[str] | None] = lambda ref: None,
) -> list[Value]:
    """The value of each coordinate; every measure must be a model measure (not a calculated member).

    ``level_size`` tells how many members a level shows (under the restrictions), when known:
    a grain needing all of them asks for the level, not a list of keys the planner must look up.
    ``level_keys`` gives a level's every key, when known: a restriction keeping most of them is
    sent as the members it leaves out (see ``_slicers``).
    """
    grains: dict[tuple[object, ...], _Grain] = {}
    placed: list[tuple[tuple[object, ...], tuple[str, ...], str] | None] = []
    common = _merged(restrictions)
    for coordinate in coordinates:
        located = _locate(coordinate, restrictions, common)
        if located is None:
            placed.append(None)  # contradictory restrictions: no row can match
            continue
        grain_key, levels, keys, slicers, measure = located
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
    answers = {grain_key: _answer(cube, grain, run, level_size, level_keys) for grain_key, grain in grains.items()}
    return [None if p is None else answers[p[0]].get((p[1], p[2])) for p in placed]


def _merged(restrictions: Sequence[Restriction]) -> tuple[Restriction, ...] | None:
    """Restrictions on one level intersected, in a stable order; None when they exclude everything."""
    merged: dict[str, tuple[LevelRef, frozenset[str]]] = {}
    for ref, keys in restrictions:
        previous = merged.get(ref.unique_name)
        merged[ref.unique_name] = (ref, keys if previous is None else previous[1] & keys)
    if any(not keys for _, keys in merged.values()):
        return None
    return tuple(merged[name] for name in sorted(merged))


def _locate(
    coordinate: Coordinate, restrictions: Sequence[Restriction], common: tuple[Restriction, ...] | None
) -> tuple[tuple[object, ...], tuple[LevelRef, ...], tuple[str, ...], tuple[Restriction, ...], str] | None:
    """(grain key, levels in hierarchy order, their keys, slicers, measure unique name), or None if empty."""
    rows: list[tuple[str, LevelRef, str]] = []
    extra: list[Restriction] = []
    measure = None
    for member in coordinate.values():
        if member.hierarchy is None:
            measure = member
        elif member.aggregate:
            extra.extend(member.aggregate)
        elif member.level is not None:
            rows.append((member.hierarchy_name, member.level, member.path[-1]))
    if measure is None or measure.measure is None:
        raise ValueError("compute_cells needs one model measure per coordinate")
    slicers = common if not extra else _merged([*restrictions, *extra])
    if slicers is None:
        return None
    rows.sort()
    levels = []
    keys = []
    shape = []
    for name, ref, key in rows:
        levels.append(ref)
        keys.append(key)
        shape.append((name, ref.level.name))
    slicer_key: object = "common" if not extra else tuple((r.unique_name, k) for r, k in slicers)
    return (tuple(shape), slicer_key), tuple(levels), tuple(keys), slicers, measure.unique_name


def _slicers(
    restrictions: Sequence[Restriction], level_keys: Callable[[LevelRef], frozenset[str] | None]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Restrictions as (slicers, exclusions): one keeping most of its level is sent as what it leaves out.

    ``Except([Regel].Members, {[Regel].&[ukendt]})`` becomes ``regel NOT IN ('ukendt')`` rather
    than a list of every other key (on a person level, thousands), as ``excludeSlicers`` would.
    """
    kept: list[str] = []
    left_out: list[str] = []
    for ref, keys in restrictions:
        every = level_keys(ref)
        rest = every - keys if every is not None and keys <= every else None
        chosen, target = (rest, left_out) if rest and len(rest) < len(keys) else (keys, kept)
        target.extend(member_unique_name(ref.dimension, ref.hierarchy, ref.level, k) for k in sorted(chosen))
    return tuple(kept), tuple(left_out)


def _answer(
    cube: Cube,
    grain: _Grain,
    run: RunQuery,
    level_size: Callable[[LevelRef], int | None],
    level_keys: Callable[[LevelRef], frozenset[str] | None],
) -> dict[tuple[tuple[str, ...], str], Value]:
    """One engine query for the grain: values by (row keys, measure unique name)."""
    items: list[AxisItem] = []
    for ref, keys in zip(grain.levels, grain.keys):
        if len(keys) > MAX_EXPLICIT_MEMBERS or len(keys) == level_size(ref):
            items.append(LevelItem(ref.unique_name))
        else:
            items.append(
                MemberSetItem(tuple(member_unique_name(ref.dimension, ref.hierarchy, ref.level, k) for k in keys))
            )
    slicers, excluded = _slicers(grain.slicers, level_keys)
    query = CubeQuery(
        cube.name, tuple(grain.measures), rows=tuple(items), slicers=slicers, exclude_slicers=excluded, non_empty=True
    )
    result = run(query)
    measures = [t.members[-1].unique_name for t in result.axes[0].tuples]
    width = len(measures)
    values: dict[tuple[tuple[str, ...], str], Value] = {}
    for row_index, row in enumerate(result.axes[1].tuples):
        keys = tuple(m.key for m in row.members)
        for column, measure in enumerate(measures):
            values[(keys, measure)] = result.cells[row_index * width + column].value
    return values
