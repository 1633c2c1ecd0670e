"""Build the model's aggregations into a new database version, beside its fact tables.

Run by the loader before the version is published, so an aggregation swaps in with the fact
table it summarises and is never stale. Each is built by the database that will serve it (the
statement from ``gateway.engine.aggregations.build_statement``): the cell keys it stores are
hashed exactly as the engine hashes them when it reads the fact table.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import sqlalchemy as sa
from duckdb_engine import Dialect as DuckDBDialect

from gateway.engine.aggregations import build_statement
from gateway.errors import LoadError
from gateway.model.types import Aggregation, Cube


def _refused(cube: Cube, aggregation: Aggregation, error: Exception) -> LoadError:
    """A model that names what the data lacks: the load is refused, the current version keeps serving."""
    first = str(getattr(error, "orig", None) or error).splitlines()[0]
    return LoadError(f"cube '{cube.name}'", f"cannot build the aggregation '{aggregation.name}': {first}")


def build_in_duckdb(con: duckdb.DuckDBPyConnection, cubes: Sequence[Cube]) -> dict[str, int]:
    """Create every aggregation table on a DuckDB connection holding the cube tables; rows per table."""
    rows: dict[str, int] = {}
    dialect = DuckDBDialect()
    for cube in cubes:
        for aggregation in cube.aggregations:
            name, statement = build_statement(cube, aggregation)
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            try:
                con.execute(f'CREATE TABLE "{name}" AS {sql}')
            except duckdb.Error as error:
                raise _refused(cube, aggregation, error) from None
            counted = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            rows[name] = int(counted[0]) if counted else 0
    return rows


def build_in_postgres(url: str, schema: str, cubes: Sequence[Cube]) -> dict[str, int]:
    """Create every aggregation table in a version's PostgreSQL schema, in one transaction."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
            connection.exec_driver_sql(f"SET LOCAL search_path TO {quoted}")
            rows = build_on(connection, cubes)
            for name in rows:
                connection.exec_driver_sql(f"ANALYZE {connection.dialect.identifier_preparer.quote_identifier(name)}")
            return rows
    finally:
        engine.dispose()


def build_on(connection: sa.Connection, cubes: Sequence[Cube]) -> dict[str, int]:
    """Create every aggregation table through a SQLAlchemy connection (any supported dialect)."""
    rows: dict[str, int] = {}
    for cube in cubes:
        for aggregation in cube.aggregations:
            name, statement = build_statement(cube, aggregation)
            table = connection.dialect.identifier_preparer.quote_identifier(name)
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            try:
                connection.exec_driver_sql(f"CREATE TABLE {table} AS {sql}")
            except sa.exc.DBAPIError as error:
                raise _refused(cube, aggregation, error) from None
            rows[name] = int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    return rows
