"""The loaded semantic model: immutable objects the planner, compiler and API read.

A model file in ``schema/`` (YAML, one per data area) is validated and turned into these
objects by ``gateway.model.load``. Nothing here touches a database: identifiers that reach SQL
come only from these objects, never from a client's string.

Unique names follow XMLA:
- measure    ``[Measures].[Indrejste]``
- hierarchy  ``[Tid].[Tid]``
- level      ``[Tid].[Tid].[Måned]`` (short form ``[Tid].[Måned]`` when unambiguous)
- member     ``[Tid].[Tid].[Måned].&[2022-03]`` (short form ``[Køn].[Køn].&[K]`` for one-level hierarchies)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gateway.model.expression import Expr, parse_expression, references


def bracket(name: str) -> str:
    """Quote one name part as XMLA does: ``]`` is doubled inside brackets."""
    return "[" + name.replace("]", "]]") + "]"


class MeasureKind(str, Enum):
    SUM = "sum"  # SUM(column)
    COUNT = "count"  # COUNT(*) of fact rows, or COUNT(column) of non-null values
    DISTINCT_COUNT = "distinct_count"  # COUNT(DISTINCT column): not additive across any dimension
    AVG = "avg"  # AVG(column)
    MIN = "min"
    MAX = "max"
    # SUM(fact.column) / SUM(time dimension's days column) over the same time member(s):
    # full-year recipients (Helårsmodtagere). The denominator comes from the time dimension
    # table, not from fact rows, so it is the length of the period, whatever the fact holds.
    DAYS_WEIGHTED = "days_weighted"
    CALCULATED = "calculated"  # arithmetic over other measures of the cube: [A] - [B]
    RATIO = "ratio"  # numerator / denominator * scale, both other measures (per 10,000 inhabitants)
    RUNNING_TOTAL = "running_total"  # cumulative sum of another measure along the time dimension
    # Internal kinds, never declared in a model file: disclosure control adds them to a plan
    # (gateway.engine.disclosure) so every cell carries its cell key and its contributor count.
    CELL_KEY = "cell_key"  # sum of the record keys of the cell's contributors
    CONTRIBUTORS = "contributors"  # how many contributors (persons, or rows) the cell has


BASE_KINDS = frozenset(
    {MeasureKind.SUM, MeasureKind.COUNT, MeasureKind.DISTINCT_COUNT, MeasureKind.AVG, MeasureKind.MIN, MeasureKind.MAX}
)


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a hierarchy, stored as columns of its dimension table."""

    name: str
    key_column: str  # member key; unique within the level
    caption_column: str  # what a person reads
    order_column: str  # members are listed in this column's order (defaults to the key)
    individual: bool = False  # person-level detail (personnummer): only with an individual grant


@dataclass(frozen=True, slots=True)
class Hierarchy:
    name: str
    levels: tuple[Level, ...]  # ordered from the top (coarsest) to the bottom (finest)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A dimension table joined to the fact table: ``fact.<foreign_key> = <table>.<key_column>``.

    Several dimensions may use one table (role-playing: Fra kommune / Til kommune); the
    compiler aliases each by dimension name. The key column is the finest grain of the table.
    """

    name: str
    table: str
    key_column: str
    foreign_key: str  # column of the cube's fact table
    hierarchies: tuple[Hierarchy, ...]
    is_time: bool = False
    days_column: str | None = None  # time dimension only: days in each row's period (for DAYS_WEIGHTED)
    description: str = ""


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    kind: MeasureKind
    column: str | None = None  # base kinds and DAYS_WEIGHTED: the fact column (None for COUNT(*))
    expression: str | None = None  # CALCULATED: e.g. "[Indrejste] - [Udrejste]"
    numerator: str | None = None  # RATIO: measure names
    denominator: str | None = None
    scale: float = 1.0  # RATIO: 10000 for "per 10,000 inhabitants"
    of: str | None = None  # RUNNING_TOTAL: the measure accumulated
    along: str | None = None  # RUNNING_TOTAL / DAYS_WEIGHTED: the time dimension's name
    format: str = "#,##0"  # Excel-style format string; formatted values use Danish separators
    description: str = ""
    additive: bool = True  # False for distinct counts, ratios, averages, running totals

    @property
    def unique_name(self) -> str:
        return f"[Measures].{bracket(self.name)}"

    @property
    def expression_tree(self) -> Expr | None:
        """CALCULATED: the parsed expression (checked at load time), for the compiler."""
        return parse_expression(self.expression) if self.expression is not None else None

    @property
    def dependencies(self) -> tuple[str, ...]:
        """Names of the measures of the same cube this one is computed from (none for base kinds)."""
        if self.expression is not None:
            return references(parse_expression(self.expression))
        return tuple(n for n in (self.numerator, self.denominator, self.of) if n is not None)


@dataclass(frozen=True, slots=True)
class DisclosureRule:
    """Statistical disclosure control of one cube (docs/disclosure-control.md).

    ``record_key``: fact columns that identify a contributor (a person, or one fact row);
    ``distinct``: one contributor spans several fact rows (count each once). ``threshold``:
    counts below it are never shown (rounded to 0 or the threshold); ``max_noise``: the largest
    change the cell-key perturbation makes. ``secret`` is bound by the service layer when it
    builds a caller's view (never in a model file): without it nobody can recompute the noise.
    """

    record_key: tuple[str, ...]
    distinct: bool
    threshold: int
    max_noise: int
    secret: bytes = b""


@dataclass(frozen=True, slots=True)
class Aggregation:
    """A table of the cube's measures pre-aggregated at a grain (``gateway.engine.aggregations``).

    ``levels``: (dimension name, level name) pairs, one per dimension, the grain; ``measures``:
    names of the cube's measures it can answer (with everything they are built from).
    """

    name: str
    levels: tuple[tuple[str, str], ...]
    measures: tuple[str, ...]
    # The modelled cube's rule (whatever a caller's view says): under it the table also carries
    # each row's cell key and contributor count, so it serves exact and protected views alike.
    disclosure: DisclosureRule | None = None


@dataclass(frozen=True, slots=True)
class Cube:
    name: str
    fact_table: str
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    description: str = ""
    # None: exact values. In the model it is the cube's rule; in a caller's view (the service
    # layer's pruned catalog) it is None exactly when the caller may see exact values.
    disclosure: DisclosureRule | None = None
    aggregations: tuple[Aggregation, ...] = ()  # built by the loader in every version of the database

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)


@dataclass(frozen=True, slots=True)
class DatabaseNaming:
    """How an area's databases are named.

    ``kommune`` is a template with ``{kode}`` (``FLIS Ukraine-{kode}``) or None when the area
    has no kommune-specific databases; ``benchmark`` is the one cross-kommune name or None.
    """

    kommune: str | None
    benchmark: str | None


@dataclass(frozen=True, slots=True)
class AreaModel:
    """One data area (dataområde): what a grant names and what its databases contain."""

    id: str  # 'ukraine'
    name: str  # 'Ukraine'
    grant_name: str  # 'FLIS DAP Ukraine'
    description: str
    naming: DatabaseNaming
    kommune_cubes: tuple[Cube, ...]  # cubes in each kommune-specific database
    benchmark_cubes: tuple[Cube, ...]  # cubes in the benchmark database
    source_file: str  # the YAML file it came from, for error messages
