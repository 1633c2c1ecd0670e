"""A contributor's record key in SQL: a hash of the model's record-key columns, in [0, 2**32).

Cell-key perturbation (docs/disclosure-control.md) needs one key per contributor, computed in
the same statement as the cell, so that every cell the engine returns (totals included) gets
the key of exactly the contributors it counts. The hash is the database's own (DuckDB
``hash``, PostgreSQL ``hashtextextended``); it need not be secret: the noise is drawn from the
cell key with a secret the database never sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FromClause
from sqlalchemy.sql.functions import FunctionElement

from gateway.errors import InternalError

KEY_SPACE = 2**32


class record_hash(FunctionElement[int]):  # noqa: N801 - SQLAlchemy names functions in lower case
    """hash(text) reduced to [0, 2**32): non-negative on every dialect, so sums stay exact."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "record_hash"


@compiles(record_hash, "duckdb")
def _duckdb(element: record_hash, compiler: Any, **kw: Any) -> str:
    """DuckDB hashes several columns of any type at once, NULL included: no casts, no concatenation."""
    return f"CAST(hash({compiler.process(element.clauses, **kw)}) % {KEY_SPACE} AS BIGINT)"


@compiles(record_hash, "postgresql")
def _postgresql(element: record_hash, compiler: Any, **kw: Any) -> str:
    """PostgreSQL hashes one text: the columns as text, NULL as '', joined by '|'."""
    parts = [compiler.process(sa.func.coalesce(sa.cast(c, sa.Text), ""), **kw) for c in element.clauses]
    text = parts[0] if len(parts) == 1 else f"concat_ws('|', {', '.join(parts)})"
    return f"(hashtextextended({text}, 0) & {KEY_SPACE - 1})"


@compiles(record_hash)
def _unsupported(element: record_hash, compiler: Any, **kw: Any) -> str:
    """Cube databases are DuckDB or PostgreSQL; any other dialect here is a deployment error, and
    disclosure control must refuse to answer rather than answer unprotected."""
    raise InternalError(f"disclosure control has no record key for the {compiler.dialect.name} dialect")


def record_key(fact: FromClause, columns: Sequence[str]) -> ColumnElement[int]:
    """The record key of a fact row: its record-key columns, hashed together."""
    return record_hash(*(fact.c[name] for name in columns))
