"""The SQLAlchemy dialect for the DuckDB cube files the gateway serves: read-only, no transactions.

duckdb_engine opens a transaction (``BEGIN``) on the first statement of every checkout and rolls
it back when the connection returns to the pool. A cube version's file is opened read-only and
never changes once published, so each statement already sees the one state the file will ever
have: the transaction buys nothing and costs two round trips per request. This dialect skips
both. It is still DuckDB (``dialect.name == "duckdb"``): the compiler and the query timeout treat
it as such. URLs name it ``duckdb+readonly://``; ``gateway.registry`` rewrites ``duckdb://`` URLs.
"""

from __future__ import annotations

from typing import Any

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry as dialects

DRIVER_NAME = "duckdb+readonly"


class ReadOnlyDuckDBDialect(DuckDBDialect):
    """DuckDB without BEGIN/ROLLBACK/COMMIT: for files opened with ``read_only=True`` only."""

    supports_statement_cache = True  # compiles exactly as duckdb_engine does

    def do_begin(self, dbapi_connection: Any) -> None:
        return None

    def do_rollback(self, dbapi_connection: Any) -> None:
        return None

    def do_commit(self, dbapi_connection: Any) -> None:
        return None


dialects.register(DRIVER_NAME.replace("+", "."), __name__, "ReadOnlyDuckDBDialect")
