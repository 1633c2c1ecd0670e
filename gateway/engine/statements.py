"""Compiled statements, kept per plan shape: the SQL text of a repeated question is made once.

Building the SQLAlchemy statement for a plan and compiling it cost as much as running a small
aggregated query, and dashboards ask the same few questions again and again. The SQL of a plan
depends only on the cube as the caller sees it (its tables, measures and disclosure rule), the
dialect, the measures compiled, the levels on the axes, the member keys bound into it and the
aggregation table chosen; never on the database version's data (the version only decides
*which* aggregation exists, and its table name is in the key). So the compiled text and its
parameters are kept under exactly those, in a bounded LRU.

The cube in the key is the view's own object (``id``), and the entry holds that object, so the
id cannot be reused by another cube while the entry lives: two catalogs, two views (exact and
protected, or another deployment's key) never share an entry, even with equal names.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection, CursorResult

from gateway.engine.cache import WeightedLRU
from gateway.engine.compile import Labels, compile_plan
from gateway.engine.plan import Plan
from gateway.model.types import Cube

MAX_STATEMENTS = 2048


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    cube: Cube  # held: while the entry lives, no other cube can take its id
    sql: str
    parameters: Sequence[object] | Mapping[str, object]
    labels: Labels

    def execute(self, connection: Connection) -> CursorResult:
        return connection.exec_driver_sql(self.sql, self.parameters)  # type: ignore[arg-type]


class StatementCache:
    """Compiled statements by plan shape (thread-safe, bounded)."""

    def __init__(self, max_entries: int = MAX_STATEMENTS) -> None:
        self._entries = WeightedLRU(max_entries=max_entries, max_weight=max(1, max_entries))

    def compiled(self, connection: Connection, plan: Plan) -> CompiledStatement:
        key = shape_key(connection, plan)
        found: CompiledStatement = self._entries.get_or_compute(key, lambda: _compile(connection, plan))
        if found.cube is not plan.cube:  # cannot happen while the entry holds the cube; never trust it
            return _compile(connection, plan)
        return found

    def __len__(self) -> int:
        return len(self._entries)


def shape_key(connection: Connection, plan: Plan) -> Hashable:
    """Everything the compiled SQL depends on (see the module docstring)."""
    return (
        id(plan.cube),
        type(connection.dialect),
        connection.dialect.name,
        tuple(m.name for m in plan.measures),
        tuple((a.ref.unique_name, a.keys) for a in plan.axis_levels),
        len(plan.columns),
        tuple((s.ref.unique_name, s.keys, s.excluded) for s in plan.slicers),
        None if plan.aggregation is None else plan.aggregation.table_name,
    )


def _compile(connection: Connection, plan: Plan) -> CompiledStatement:
    statement, labels = compile_plan(plan)
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.params
    parameters: Sequence[object] | Mapping[str, object]
    if dialect.positional:
        parameters = tuple(values[name] for name in compiled.positiontup or ())
    else:
        parameters = dict(values)
    return CompiledStatement(plan.cube, compiled.string, parameters, labels)


STATEMENTS = StatementCache()  # process infrastructure, like the watchdog: one per process
