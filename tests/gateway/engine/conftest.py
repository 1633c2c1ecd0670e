"""Engine fixtures: the hand-countable tables in a tmp DuckDB file and in a fresh PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from engine_fixtures import load_fixture
from sqlalchemy.engine import Connection, Engine


@pytest.fixture(scope="module")
def duck_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The fixture tables in a tmp DuckDB file, shared by one module's tests (they only read)."""
    path: Path = tmp_path_factory.mktemp("engine") / "cube.duckdb"
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.begin() as connection:
        load_fixture(connection)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A fresh schema holding the fixture tables, per test module; dropped afterwards."""
    schema = f"engine_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.begin() as connection:
            load_fixture(connection)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["duckdb", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Connection]:
    """A connection to the fixture on each database: the same test runs on both."""
    engine: Engine = request.getfixturevalue("duck_engine" if request.param == "duckdb" else "pg_engine")
    with engine.connect() as connection:
        yield connection


@pytest.fixture
def duck(duck_engine: Engine) -> Iterator[Connection]:
    with duck_engine.connect() as connection:
        yield connection
