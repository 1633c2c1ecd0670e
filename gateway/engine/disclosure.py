"""Statistical disclosure control: the one place every cell of a protected cube passes.

A cube in a caller's view carries a :class:`gateway.model.types.DisclosureRule` exactly when the
caller may not see exact person counts (the service layer decides that from the access
decision; the engine only reads the view). Then the compiled statement carries two more
aggregates per cell, whatever its shape (axes, totals, running totals): the **cell key** (the
sum of the record keys of the cell's contributors) and the **contributor count**. After the
database answered, every value is replaced here, before ordering, paging or caching:

- counts (``count``, ``distinct_count``, ``sum`` of person counts): a value below the threshold
  becomes 0 or the threshold (unbiased: ``threshold`` with probability value/threshold); any
  other value gets integer noise in ``[-max_noise, max_noise]`` and never drops below the
  threshold. Zero stays zero.
- ``days_weighted`` under a ``distinct`` rule (Helårsmodtagere: contributors are persons): empty
  when the cell has fewer contributors than the threshold, else continuous noise in
  ``[-max_noise, max_noise]`` (so the fraction of a person's days does not survive), never below
  zero. Without ``distinct`` a contributor is a fact row that already counts persons (Borger's
  Befolkningstal, a mean population): protected as a count.
- ``running_total``: of a count, as a count; of a net figure (calculated), integer noise only.
- ``calculated`` and ``ratio``: recomputed from the perturbed values of the measures they are
  built from (fetched as hidden columns when the query did not ask for them), so a ratio can
  never be multiplied back into an exact count.

The noise is drawn from a keyed hash of (cell key, measure, true value): the same contributors
give the same answer in every query, so repeating or rephrasing a query averages nothing out,
and without the secret nobody can recompute it. docs/disclosure-control.md has the method, its
sources and what it does not prevent.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.engine.cellset import Data, Value
from gateway.engine.measures import dependencies, parsed
from gateway.engine.plan import Plan
from gateway.engine.record_key import KEY_SPACE
from gateway.errors import QueryError
from gateway.model.expression import BinOp, Expr, Neg, Num, Ref
from gateway.model.types import Cube, DisclosureRule, Measure, MeasureKind

# Control characters cannot appear in a model's names (gateway.model.spec.check_name), so these
# hidden measures never clash with a declared one.
CELL_KEY = Measure(name="\x00cell key", kind=MeasureKind.CELL_KEY)
CONTRIBUTORS = Measure(name="\x00contributors", kind=MeasureKind.CONTRIBUTORS)

Keyed = Any  # a keyed blake2b hash object (hashlib exposes no type for it)

_COUNT_KINDS = frozenset({MeasureKind.COUNT, MeasureKind.DISTINCT_COUNT, MeasureKind.SUM})
_DERIVED_KINDS = frozenset({MeasureKind.CALCULATED, MeasureKind.RATIO})


@dataclass(frozen=True)
class Protection:
    """What the engine compiles for a protected plan, and how it turns the rows into answers."""

    plan: Plan  # the caller's plan: what the cell set shows
    widened: Plan  # what is compiled: the plan's measures, hidden components, cell key, contributors
    rule: DisclosureRule

    @classmethod
    def for_plan(cls, plan: Plan) -> Protection | None:
        """None when the cube, as the caller sees it, carries no rule (exact values)."""
        rule = plan.cube.disclosure
        if rule is None:
            return None
        components = _components(plan.cube, plan.measures)
        hidden = [m for m in components if m not in plan.measures]
        counted = any(m.kind is MeasureKind.DAYS_WEIGHTED for m in (*plan.measures, *components))
        extra = (CELL_KEY, CONTRIBUTORS) if counted else (CELL_KEY,)  # contributors: only days_weighted asks
        widened = dataclasses.replace(plan, measures=plan.measures + tuple(hidden) + extra)
        return cls(plan, widened, rule)

    def apply(self, data: Data) -> Data:
        """The statement's values (compiled from ``widened``, in its measure order) → the plan's
        measures, protected; the hidden columns are dropped. Keys pass unchanged."""
        widened = self.widened.measures
        position = {m.name: i for i, m in enumerate(widened)}
        key_at = position[CELL_KEY.name]
        counted_at = position.get(CONTRIBUTORS.name)
        rule, cube, shown = self.rule, self.plan.cube, self.plan.measures
        simple = all(m.kind in _COUNT_KINDS for m in shown)  # the common case: each value alone
        at = [position[m.name] for m in shown]
        keyed = _keyed(rule.secret)
        by_name = None if simple else {m.name: m for m in cube.measures}  # looked up once per answer, not per cell
        protected: Data = {}
        for keys, values in data.items():
            cell_key = int(values[key_at] or 0) % KEY_SPACE
            if simple:
                protected[keys] = tuple(
                    _count_cell(rule, keyed, cell_key, m, values[i]) for m, i in zip(shown, at)
                )
                continue
            contributors = int(values[counted_at] or 0) if counted_at is not None else 0
            cell = _Cell(rule, keyed, cube, by_name or {}, cell_key, contributors, values, position)
            protected[keys] = tuple(cell.value(m) for m in shown)
        return protected


class _Cell:
    """One cell's protected values, each measure computed once (derived measures reuse them)."""

    __slots__ = ("_by_name", "_contributors", "_cube", "_done", "_key", "_keyed", "_position", "_rule", "_values")

    def __init__(
        self, rule: DisclosureRule, keyed: Keyed, cube: Cube, by_name: Mapping[str, Measure], key: int,
        contributors: int, values: Sequence[Value], position: Mapping[str, int],
    ) -> None:
        self._rule = rule
        self._keyed = keyed
        self._cube = cube
        self._by_name = by_name
        self._key = key
        self._contributors = contributors
        self._values = values
        self._position = position
        self._done: dict[str, Value] = {}

    def value(self, measure: Measure) -> Value:
        if measure.name not in self._done:
            self._done[measure.name] = self._protect(measure)
        return self._done[measure.name]

    def _protect(self, measure: Measure) -> Value:
        kind = measure.kind
        if kind is MeasureKind.CALCULATED:
            tree = parsed(measure.expression) if measure.expression is not None else None
            if tree is None:
                raise QueryError(f"The measure '{measure.name}' has no expression.")
            return _evaluate(tree, self._named)
        if kind is MeasureKind.RATIO:
            numerator = self._named(measure.numerator)
            denominator = self._named(measure.denominator)
            if numerator is None or not denominator:
                return None
            return float(numerator) / float(denominator) * float(measure.scale)
        true = self._values[self._position[measure.name]]
        if kind in _COUNT_KINDS:
            return _count_cell(self._rule, self._keyed, self._key, measure, true)
        if true is None:
            return None
        draw = _Draw(self._keyed, self._key, measure.name, true)
        if kind is MeasureKind.DAYS_WEIGHTED:
            if not self._rule.distinct:
                # one contributor per fact row, and the rows are already counts (Borger's
                # Befolkningstal: a mean population): a count of persons, protected as one
                return _count(true, draw, self._rule, empty=0)
            if self._contributors < self._rule.threshold:
                return None
            return round(max(0.0, float(true) + draw.continuous(self._rule.max_noise)), 2)
        if kind is MeasureKind.RUNNING_TOTAL:
            base = self._by_name.get(measure.of or "")
            if base is not None and base.kind in _COUNT_KINDS:  # an accumulated count is a count
                return _count(true, draw, self._rule, empty=0)
            return true + draw.integer(self._rule.max_noise)  # a net figure: no threshold to keep
        # The model refuses avg/min/max in a cube with a disclosure rule; this is the backstop.
        raise QueryError(f"The measure '{measure.name}' cannot be shown under disclosure control.")

    def _named(self, name: str | None) -> Value:
        measure = self._by_name.get(name or "")
        if measure is None:
            raise QueryError(f"The measure '{name}' is not defined in the cube '{self._cube.name}'.")
        return self.value(measure)


def _count_cell(rule: DisclosureRule, keyed: Keyed, cell_key: int, measure: Measure, true: Value) -> Value:
    """A count, sum or distinct count of one cell, protected (empty stays empty, zero stays zero)."""
    if true is None or true == 0:
        return true  # no draw needed: _count keeps a zero whatever the noise
    empty = None if measure.kind is not MeasureKind.SUM else 0
    return _count(true, _Draw(keyed, cell_key, measure.name, true), rule, empty=empty)


def _count(true: int | float, draw: _Draw, rule: DisclosureRule, *, empty: Value) -> Value:
    """A count: zero stays, a small count is rounded to 0 or the threshold, others get noise."""
    if true == 0:
        return true
    threshold = rule.threshold
    if true < threshold:
        return threshold if draw.uniform() < true / threshold else empty
    return max(threshold, true + draw.integer(rule.max_noise))


class _Draw:
    """Deterministic noise for one (cell key, measure, true value), keyed by the view's secret."""

    __slots__ = ("_u", "_v")

    def __init__(self, keyed: Keyed, cell_key: int, measure: str, true: int | float) -> None:
        # a copy of the keyed hash gives the digest of a freshly keyed blake2b, without re-keying
        hasher = keyed.copy()
        hasher.update(f"{cell_key}|{measure}|{true!r}".encode())
        digest = hasher.digest()
        self._u = int.from_bytes(digest[:8], "big") / 2**64
        self._v = int.from_bytes(digest[8:], "big") / 2**64

    def uniform(self) -> float:
        return self._u

    def integer(self, spread: int) -> int:
        """-spread … spread, triangular (mean 0): weight spread + 1 - |d| for each d."""
        weights, total = _triangular(spread)
        target = self._u * total
        for offset, weight in weights:
            if target < weight:
                return offset
            target -= weight
        return spread

    def continuous(self, spread: int) -> float:
        """Triangular on [-spread, spread] (mean 0): the sum of two uniform draws, centred."""
        return spread * (self._u + self._v - 1.0)


@functools.lru_cache(maxsize=64)
def _keyed(secret: bytes) -> Keyed:
    """The keyed hash every draw of a view starts from (copied, never updated itself)."""
    return hashlib.blake2b(key=secret[:64], digest_size=16)


@functools.lru_cache(maxsize=64)
def _triangular(spread: int) -> tuple[tuple[tuple[int, int], ...], int]:
    """(offset, weight) for -spread … spread, and the weights' sum: made once per spread."""
    weights = tuple((d, spread + 1 - abs(d)) for d in range(-spread, spread + 1))
    return weights, sum(w for _, w in weights)


def _components(cube: Cube, measures: Iterable[Measure]) -> list[Measure]:
    """The stored measures that derived measures (calculated, ratio) are built from, each once."""
    found: dict[str, Measure] = {}
    pending = [m for m in measures if m.kind in _DERIVED_KINDS]
    seen: set[str] = set()
    while pending:
        measure = pending.pop()
        if measure.name in seen:
            continue
        seen.add(measure.name)
        for name in dependencies(measure):
            dependency = cube.measure(name)
            if dependency is None:
                raise QueryError(f"The measure '{name}' (used by '{measure.name}') is not defined.")
            if dependency.kind in _DERIVED_KINDS:
                pending.append(dependency)
            else:
                found.setdefault(dependency.name, dependency)
    return list(found.values())


def _evaluate(node: Expr, named: Callable[[str], Value]) -> Value:
    """A calculated measure over protected values, with SQL's rules: empty in, empty out;
    a division by zero is empty."""
    if isinstance(node, Ref):
        return named(node.name)
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Neg):
        operand = _evaluate(node.operand, named)
        return None if operand is None else -operand
    if isinstance(node, BinOp):
        left = _evaluate(node.left, named)
        right = _evaluate(node.right, named)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            return None if right == 0 else float(left) / float(right)
    raise QueryError("The calculated measure's expression is not supported.")
