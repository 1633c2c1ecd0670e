"""The database registry: persisted atomically, shared between processes, engines bounded."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from gateway.errors import InternalError
from gateway.registry import DatabaseRegistry, RegisteredDatabase


def _tiny_database(directory: Path, name: str, value: int) -> RegisteredDatabase:
    path = directory / f"{name}.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE t AS SELECT {value} AS v")
    con.close()
    return RegisteredDatabase(name=name, url=f"duckdb:///{path}", schema=None, version=1, data_as_of=date(2024, 1, 31))


def _value(registry: DatabaseRegistry, name: str) -> int:
    with registry.connect(name) as connection:
        return int(connection.execute(sa.text("SELECT v FROM t")).scalar_one())


def test_open_engines_stay_within_the_bound(tmp_path: Path) -> None:
    registry = DatabaseRegistry(tmp_path / "data", max_open_engines=3)
    registry.publish([_tiny_database(tmp_path, f"db{i}", i) for i in range(10)])
    assert registry.open_engine_count() == 0  # registration opens nothing
    for i in range(10):
        assert _value(registry, f"db{i}") == i
        assert registry.open_engine_count() <= 3
    registry.close()


def test_an_engine_in_use_is_never_disposed(tmp_path: Path) -> None:
    registry = DatabaseRegistry(tmp_path / "data", max_open_engines=1)
    registry.publish([_tiny_database(tmp_path, f"db{i}", i) for i in range(3)])
    with registry.connect("db0") as first, registry.connect("db1") as second:
        assert registry.open_engine_count() == 2  # over the bound while both are in use
        assert first.execute(sa.text("SELECT v FROM t")).scalar_one() == 0
        assert second.execute(sa.text("SELECT v FROM t")).scalar_one() == 1
    assert registry.open_engine_count() == 1
    registry.close()


def test_a_second_process_sees_a_publish_through_the_file(tmp_path: Path) -> None:
    writer = DatabaseRegistry(tmp_path / "data")
    reader = DatabaseRegistry(tmp_path / "data")
    assert reader.get("db0") is None
    writer.publish([_tiny_database(tmp_path, "db0", 7)])
    entry = reader.get("db0")
    assert entry is not None and entry.data_as_of == date(2024, 1, 31) and entry.version == 1
    assert _value(reader, "db0") == 7
    writer.unregister("db0")
    assert reader.get("db0") is None
    assert not list((tmp_path / "data").glob(".registry.json.*"))  # no temporary files left behind
    assert (tmp_path / "data" / "registry.json").stat().st_mode & 0o077 == 0
    reader.close()


def test_registering_two_thousand_databases_is_cheap(tmp_path: Path) -> None:
    registry = DatabaseRegistry(tmp_path / "data")
    entries = [RegisteredDatabase(name=f"FLIS Test-{i:04d}", url=f"duckdb:///{tmp_path}/x{i}.duckdb", schema=None,
                                  version=1, data_as_of=None) for i in range(2000)]
    started = time.perf_counter()
    registry.publish(entries)
    fresh = DatabaseRegistry(tmp_path / "data")
    assert len(fresh.all()) == 2000
    assert time.perf_counter() - started < 2.0
    assert fresh.open_engine_count() == 0


def test_unknown_database_is_none_and_cannot_be_connected(tmp_path: Path) -> None:
    registry = DatabaseRegistry(tmp_path / "data")
    assert registry.get("FLIS Ukraine-999") is None
    with pytest.raises(InternalError):
        with registry.connect("FLIS Ukraine-999"):
            pass


def test_a_duckdb_version_is_read_without_a_transaction_per_request(tmp_path: Path) -> None:
    """The file is read-only and never changes: no BEGIN on checkout, no ROLLBACK on return."""
    registry = DatabaseRegistry(tmp_path)
    registry.publish([_tiny_database(tmp_path, "a", 7)])
    with registry.connect("a") as connection:
        assert connection.dialect.name == "duckdb"
        assert connection.execute(sa.text("SELECT v FROM t")).scalar_one() == 7
        raw = connection.connection.driver_connection
        with pytest.raises(duckdb.TransactionException, match="no transaction is active"):
            raw.execute("COMMIT")
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):  # and still read-only
            connection.execute(sa.text("CREATE TABLE x (a INTEGER)"))
    assert _value(registry, "a") == 7  # the pooled connection is reused cleanly
    registry.close()
