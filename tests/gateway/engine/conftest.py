"""Engine fixtures: the hand-countable tables in a tmp DuckDB file and in a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_fixtures import load_fixture
from sqlalchemy.engine import Connection, Engine

from tests.support.databases import duckdb_with, postgres_schema_with


@pytest.fixture(scope="module")
def duck_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The fixture tables in a tmp DuckDB file, shared by one module's tests (they only read)."""
    with duckdb_with(tmp_path_factory.mktemp("engine") / "cube.duckdb", load_fixture) as engine:
        yield engine

@pytest.fixture(scope="module")
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A fresh schema holding the fixture tables, per test module; dropped afterwards."""
    with postgres_schema_with(postgres_url, "engine", load_fixture) as engine:
        yield engine

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
