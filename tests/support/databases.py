"""Cube fixtures on both databases: a DuckDB file, or a fresh PostgreSQL schema dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

Load = Callable[[Connection], None]


@contextmanager
def duckdb_with(path: Path, load: Load) -> Iterator[Engine]:
    """A DuckDB file at ``path`` filled by ``load``; the engine is disposed afterwards."""
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.begin() as connection:
        load(connection)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_schema_with(postgres_url: str, prefix: str, load: Load) -> Iterator[Engine]:
    """A fresh schema (``<prefix>_<random>``) on the PostgreSQL test server, first on the search
    path and filled by ``load``; dropped with everything in it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.begin() as connection:
            load(connection)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
