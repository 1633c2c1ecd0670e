"""Rules of a model file that look beyond one value: names, references, the time dimension.

Each rule raises ``ModelError(file, path, problem)`` where ``path`` points at the offending
value (``kommune_cubes[0].measures[4].expression``), so whoever edits the file can find it.
Names are compared case-insensitively (``casefold``), as XMLA clients resolve them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.errors import ModelError
from gateway.model.expression import ExpressionError, is_linear, parse_expression, references
from gateway.model.spec import AreaSpec, CubeSpec, DimensionSpec, MeasureSpec

KODE_PLACEHOLDER = "{kode}"
RESERVED_DIMENSION_NAMES = frozenset({"measures"})  # [Measures] is the measures' own dimension

_KIND_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required, allowed) among the kind-specific keys
    "sum": (frozenset({"column"}), frozenset({"column"})),
    "count": (frozenset(), frozenset({"column"})),
    "distinct_count": (frozenset({"column"}), frozenset({"column"})),
    "avg": (frozenset({"column"}), frozenset({"column"})),
    "min": (frozenset({"column"}), frozenset({"column"})),
    "max": (frozenset({"column"}), frozenset({"column"})),
    "days_weighted": (frozenset({"column", "along"}), frozenset({"column", "along"})),
    "calculated": (frozenset({"expression"}), frozenset({"expression"})),
    "ratio": (frozenset({"numerator", "denominator"}), frozenset({"numerator", "denominator", "scale"})),
    "running_total": (frozenset({"of", "along"}), frozenset({"of", "along"})),
}
_KIND_SPECIFIC = ("column", "expression", "numerator", "denominator", "scale", "of", "along")
ADDITIVE_BY_DEFAULT = frozenset({"sum", "count"})
MAY_BE_ADDITIVE = frozenset({"sum", "count", "calculated"})


def path(*parts: str | int) -> str:
    """``("kommune_cubes", 0, "name")`` -> ``kommune_cubes[0].name``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class _Checker:
    file: str

    def fail(self, where: Sequence[str | int], problem: str) -> ModelError:
        return ModelError(self.file, path(*where), problem)

    def unique(self, names: Iterable[str], where: tuple[str | int, ...], what: str) -> None:
        seen: dict[str, str] = {}
        for index, name in enumerate(names):
            key = name.casefold()
            if key in seen:
                raise self.fail((*where, index, "name"), f"duplicate {what} name '{name}' (also '{seen[key]}')")
            seen[key] = name


def check_area(spec: AreaSpec, file: str) -> None:
    """Raise ModelError for the first rule ``spec`` breaks."""
    checker = _Checker(file)
    _check_databases(checker, spec)
    for section in ("kommune_cubes", "benchmark_cubes"):
        cubes: list[CubeSpec] = getattr(spec, section)
        checker.unique((c.name for c in cubes), (section,), "cube")
        for index, cube in enumerate(cubes):
            _check_cube(checker, cube, (section, index))


def _check_databases(checker: _Checker, spec: AreaSpec) -> None:
    kommune, benchmark = spec.databases.kommune, spec.databases.benchmark
    if kommune is None and benchmark is None:
        raise checker.fail(("databases",), "at least one of 'kommune' and 'benchmark' must be set")
    if kommune is not None:
        _check_database_name(checker, kommune, "kommune")
        if kommune.count(KODE_PLACEHOLDER) != 1:
            raise checker.fail(("databases", "kommune"), "the template must contain '{kode}' exactly once")
        if "{" in kommune.replace(KODE_PLACEHOLDER, "") or "}" in kommune.replace(KODE_PLACEHOLDER, ""):
            raise checker.fail(("databases", "kommune"), "the only placeholder allowed is '{kode}'")
    if benchmark is not None:
        _check_database_name(checker, benchmark, "benchmark")
        if "{" in benchmark or "}" in benchmark:
            raise checker.fail(("databases", "benchmark"), "a benchmark name has no placeholders")
    for section, naming in (("kommune_cubes", kommune), ("benchmark_cubes", benchmark)):
        cubes = getattr(spec, section)
        key = section.split("_")[0]
        if naming is not None and not cubes:
            raise checker.fail((section,), f"must list at least one cube because databases.{key} is set")
        if naming is None and cubes:
            raise checker.fail((section,), f"must be empty because databases.{key} is not set")


def _check_database_name(checker: _Checker, name: str, key: str) -> None:
    where = ("databases", key)
    if not name.strip() or name != name.strip():
        raise checker.fail(where, "database name must not be empty or start or end with whitespace")
    if any(ch in "[]&" or not ch.isprintable() for ch in name):
        raise checker.fail(where, "database name must not contain '[', ']', '&' or control characters")


def _check_cube(checker: _Checker, cube: CubeSpec, at: tuple[str | int, ...]) -> None:
    checker.unique((d.name for d in cube.dimensions), (*at, "dimensions"), "dimension")
    time_dimension: str | None = None
    for index, dimension in enumerate(cube.dimensions):
        where = (*at, "dimensions", index)
        if dimension.name.casefold() in RESERVED_DIMENSION_NAMES:
            raise checker.fail((*where, "name"), f"'{dimension.name}' is reserved for the measures")
        if dimension.time:
            if time_dimension is not None:
                raise checker.fail(
                    (*where, "time"), f"a cube has at most one time dimension ('{time_dimension}' is one already)"
                )
            time_dimension = dimension.name
        if dimension.days is not None and not dimension.time:
            raise checker.fail((*where, "days"), "only a time dimension (time: true) has a days column")
        _check_dimension(checker, dimension, where)
    checker.unique((m.name for m in cube.measures), (*at, "measures"), "measure")
    for index, measure in enumerate(cube.measures):
        _check_measure(checker, cube, measure, (*at, "measures", index))
    _check_cycles(checker, cube, at)
    _check_additive(checker, cube, at)
    _check_disclosure(checker, cube, at)
    _check_aggregations(checker, cube, at)


MAX_AGGREGATION_NAME = 40  # the table is agg_<name>_<8 hex>: within PostgreSQL's 63 characters


def _check_aggregations(checker: _Checker, cube: CubeSpec, at: tuple[str | int, ...]) -> None:
    """Every aggregation names existing dimensions, levels and measures, each level once in its dimension."""
    checker.unique((a.name for a in cube.aggregations), (*at, "aggregations"), "aggregation")
    dimensions = {d.name.casefold(): d for d in cube.dimensions}
    measures = {m.name.casefold() for m in cube.measures}
    for index, aggregation in enumerate(cube.aggregations):
        where = (*at, "aggregations", index)
        if len(aggregation.name) > MAX_AGGREGATION_NAME:
            raise checker.fail((*where, "name"), f"name is longer than {MAX_AGGREGATION_NAME} characters")
        for dimension_name, level_name in aggregation.levels.items():
            dimension = dimensions.get(dimension_name.casefold())
            if dimension is None:
                raise checker.fail((*where, "levels", dimension_name), f"no dimension '{dimension_name}' in the cube")
            found = [lv for h in dimension.hierarchies for lv in h.levels if lv.name.casefold() == level_name.casefold()]
            if len(found) != 1:
                problem = "no level" if not found else "more than one level"
                raise checker.fail((*where, "levels", dimension_name), f"{problem} '{level_name}' in '{dimension_name}'")
            if found[0].individual:
                raise checker.fail((*where, "levels", dimension_name), "an aggregation may not hold person-level detail")
        for m_index, name in enumerate(aggregation.measures):
            if name.casefold() not in measures:
                raise checker.fail((*where, "measures", m_index), f"no measure '{name}' in the cube")


# A cell's average, minimum or maximum is one person's value when the cell is small, and no
# noise on a count protects it: a cube under disclosure control must not offer them.
_UNPROTECTABLE_KINDS = frozenset({"avg", "min", "max"})


def _check_disclosure(checker: _Checker, cube: CubeSpec, at: tuple[str | int, ...]) -> None:
    rule = cube.disclosure
    if rule is None:
        return
    if len(set(rule.record_key)) != len(rule.record_key):
        raise checker.fail((*at, "disclosure", "record_key"), "a record key column is named twice")
    for index, measure in enumerate(cube.measures):
        if measure.kind in _UNPROTECTABLE_KINDS:
            raise checker.fail(
                (*at, "measures", index, "kind"),
                f"a {measure.kind} measure cannot be protected; a cube with 'disclosure' may not have one",
            )


def _check_dimension(checker: _Checker, dimension: DimensionSpec, at: tuple[str | int, ...]) -> None:
    checker.unique((h.name for h in dimension.hierarchies), (*at, "hierarchies"), "hierarchy")
    for h_index, hierarchy in enumerate(dimension.hierarchies):
        where = (*at, "hierarchies", h_index, "levels")
        checker.unique((level.name for level in hierarchy.levels), where, "level")
        keys: dict[str, str] = {}
        for l_index, level in enumerate(hierarchy.levels):
            if level.key in keys:
                problem = f"key column '{level.key}' is already the key of level '{keys[level.key]}'"
                raise checker.fail((*where, l_index, "key"), problem)
            keys[level.key] = level.name


def _check_measure(checker: _Checker, cube: CubeSpec, measure: MeasureSpec, at: tuple[str | int, ...]) -> None:
    required, allowed = _KIND_FIELDS[measure.kind]
    for key in _KIND_SPECIFIC:
        present = getattr(measure, key) is not None
        if key in required and not present:
            raise checker.fail((*at, key), f"a {measure.kind} measure needs '{key}'")
        if present and key not in allowed:
            raise checker.fail((*at, key), f"'{key}' does not apply to a {measure.kind} measure")
    measures = {m.name for m in cube.measures}
    if measure.expression is not None:
        try:
            parse_expression(measure.expression, measures)
        except ExpressionError as error:
            raise checker.fail((*at, "expression"), str(error)) from None
    for key in ("numerator", "denominator", "of"):
        target = getattr(measure, key)
        if target is not None and target not in measures:
            raise checker.fail((*at, key), f"unknown measure '{target}'")
    if measure.scale is not None and not (0 < measure.scale < float("inf")):
        raise checker.fail((*at, "scale"), "scale must be a positive finite number")
    if measure.along is not None:
        dimension = next((d for d in cube.dimensions if d.name == measure.along), None)
        if dimension is None:
            raise checker.fail((*at, "along"), f"unknown dimension '{measure.along}'")
        if not dimension.time:
            raise checker.fail((*at, "along"), f"dimension '{measure.along}' is not the time dimension (time: true)")
        if measure.kind == "days_weighted" and dimension.days is None:
            raise checker.fail(
                (*at, "along"), f"time dimension '{measure.along}' has no 'days' column, which days_weighted needs"
            )


def dependencies(measure: MeasureSpec) -> tuple[str, ...]:
    """Names of the measures ``measure`` is computed from."""
    if measure.expression is not None:
        return references(parse_expression(measure.expression))
    return tuple(n for n in (measure.numerator, measure.denominator, measure.of) if n is not None)


def _check_cycles(checker: _Checker, cube: CubeSpec, at: tuple[str | int, ...]) -> None:
    index = {m.name: i for i, m in enumerate(cube.measures)}
    graph = {m.name: dependencies(m) for m in cube.measures}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in done:
            return
        if name in trail:
            cycle = trail[trail.index(name) :] + [name]
            raise checker.fail(
                (*at, "measures", index[cycle[0]]), "measures depend on each other in a cycle: " + " -> ".join(cycle)
            )
        trail.append(name)
        for dependency in graph[name]:
            visit(dependency, trail)
        trail.pop()
        done.add(name)

    for measure in cube.measures:
        visit(measure.name, [])


def additivity(cube: CubeSpec) -> dict[str, bool]:
    """Each measure's ``additive`` flag: the file's value, else the default for its kind."""
    return {
        m.name: m.additive if m.additive is not None else m.kind in ADDITIVE_BY_DEFAULT for m in cube.measures
    }


def _check_additive(checker: _Checker, cube: CubeSpec, at: tuple[str | int, ...]) -> None:
    flags = additivity(cube)
    for index, measure in enumerate(cube.measures):
        if measure.additive is not True:
            continue
        where = (*at, "measures", index, "additive")
        if measure.kind not in MAY_BE_ADDITIVE:
            raise checker.fail(where, f"a {measure.kind} measure is not additive")
        if measure.kind == "calculated" and measure.expression is not None:
            tree = parse_expression(measure.expression)
            if not is_linear(tree) or not all(flags[name] for name in references(tree)):
                raise checker.fail(
                    where, "a calculated measure is additive only if it adds and subtracts additive measures"
                )
