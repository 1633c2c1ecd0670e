"""Load a built version into PostgreSQL: one schema per database version, filled with COPY.

The version is built and validated in DuckDB first (same code path as the embedded default),
then copied table by table into a fresh schema in one transaction; the registry then points
the database at that schema. Different kommuner may go to different servers (one URL each).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import sqlalchemy as sa

from gateway.data import versions
from gateway.errors import LoadError

_TYPES = {"VARCHAR": "TEXT", "INTEGER": "INTEGER", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE PRECISION",
          "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "BOOLEAN": "BOOLEAN", "HUGEINT": "NUMERIC"}
BATCH = 50_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_to_postgres(duckdb_file: Path, url: str, schema: str) -> None:
    source = duckdb.connect(str(duckdb_file), read_only=True)
    engine = sa.create_engine(url)
    try:
        tables = [r[0] for r in source.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {_quote(schema)}")
            raw = connection.connection.driver_connection
            for table in tables:
                columns = source.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t ORDER BY ordinal_position",
                    {"t": table},
                ).fetchall()
                ddl = ", ".join(f"{_quote(c)} {_TYPES.get(str(t), 'TEXT')}" for c, t in columns)
                target = f"{_quote(schema)}.{_quote(table)}"
                connection.exec_driver_sql(f"CREATE TABLE {target} ({ddl})")
                names = ", ".join(_quote(c) for c, _t in columns)
                cursor = source.execute(f'SELECT * FROM "{table}"')
                with raw.cursor() as pg, pg.copy(f"COPY {target} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
                    while batch := cursor.fetchmany(BATCH):
                        for row in batch:
                            copy.write_row(row)
                connection.exec_driver_sql(f"ANALYZE {target}")
    except sa.exc.SQLAlchemyError as error:
        raise LoadError(url.split("@")[-1], f"cannot load into PostgreSQL schema {schema}: {error.__class__.__name__}") from error
    finally:
        source.close()
        engine.dispose()


def drop_old_schemas(url: str, name: str, keep: set[str], deployment: str) -> list[str]:
    """Drop this deployment's version schemas of ``name`` other than ``keep`` (current and previous)."""
    prefix = versions.schema_name(name, 0, deployment)[: -len("0000")]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            found = [
                r[0] for r in connection.execute(
                    sa.text("SELECT nspname FROM pg_namespace WHERE left(nspname, length(:p)) = :p"), {"p": prefix}
                )
            ]
            dropped = [s for s in found if s not in keep and s[len(prefix):].isdigit()]
            for schema in dropped:
                connection.exec_driver_sql(f"DROP SCHEMA {_quote(schema)} CASCADE")
        return dropped
    finally:
        engine.dispose()
