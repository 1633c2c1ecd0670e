"""A query that runs too long is stopped by the database and reported as QueryTimeoutError."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.expression import Executable

from gateway.engine.execute import query_timeout
from gateway.errors import QueryTimeoutError

SLOW_DUCKDB = sa.text("select sum(hash(a.range * b.range)) from range(200000) a, range(200000) b")


def execute_statement(connection: Connection, statement: Executable, *, timeout_seconds: float) -> list[Any]:
    """Run one statement under the timeout and fetch every row."""
    with query_timeout(connection, timeout_seconds):
        return list(connection.execute(statement).all())


def test_duckdb_long_query_is_interrupted(duck: Connection) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        execute_statement(duck, SLOW_DUCKDB, timeout_seconds=0.3)
    assert time.monotonic() - started < 5
    assert execute_statement(duck, sa.text("select 1"), timeout_seconds=5) == [(1,)]


def test_duckdb_quick_query_is_not_interrupted_later(duck: Connection) -> None:
    assert execute_statement(duck, sa.text("select 2"), timeout_seconds=0.05) == [(2,)]
    time.sleep(0.1)  # the timer was cancelled; the next query runs normally
    assert execute_statement(duck, sa.text("select count(*) from dim_koen"), timeout_seconds=5) == [(2,)]


def test_postgresql_long_query_hits_statement_timeout(pg_engine: Engine) -> None:
    with pg_engine.connect() as connection:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError):
            execute_statement(connection, sa.text("select pg_sleep(5)"), timeout_seconds=0.3)
        assert time.monotonic() - started < 4
        assert execute_statement(connection, sa.text("select 1"), timeout_seconds=5) == [(1,)]
