"""The result cache: keyed by database version and query, bounded by cells, never caching errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gateway.engine.cache import ResultCache
from gateway.engine.cellset import Axis, Cell, CellSet


def _cellset(cells: int) -> CellSet:
    return CellSet(
        cube="c",
        axes=(Axis(0, ()), Axis(1, ())),
        cells=tuple(Cell(i, i, str(i)) for i in range(cells)),
        row_levels=(),
        row_level_unique_names=(),
    )


def test_second_identical_query_is_served_from_the_cache() -> None:
    cache = ResultCache(max_cells=100)
    calls = []

    def compute() -> CellSet:
        calls.append(1)
        return _cellset(3)

    first = cache.get_or_compute(("v1", "q"), compute)
    second = cache.get_or_compute(("v1", "q"), compute)
    assert first is second
    assert len(calls) == 1
    assert (cache.hits, cache.misses) == (1, 1)


def test_a_new_database_version_is_a_different_key() -> None:
    cache = ResultCache(max_cells=100)
    old = cache.get_or_compute(("file-v1", "q"), lambda: _cellset(2))
    new = cache.get_or_compute(("file-v2", "q"), lambda: _cellset(5))
    assert old is not new
    assert len(new.cells) == 5


def test_cache_holds_at_most_max_cells_evicting_least_recently_used() -> None:
    cache = ResultCache(max_cells=10)
    cache.get_or_compute("a", lambda: _cellset(4))
    cache.get_or_compute("b", lambda: _cellset(4))
    cache.get_or_compute("a", lambda: _cellset(4))  # a is now the most recent
    cache.get_or_compute("c", lambda: _cellset(4))  # 12 > 10: b goes
    assert cache.cells <= 10
    calls = []
    cache.get_or_compute("a", lambda: calls.append("a") or _cellset(4))  # type: ignore[func-returns-value]
    cache.get_or_compute("b", lambda: calls.append("b") or _cellset(4))  # type: ignore[func-returns-value]
    assert calls == ["b"]


def test_a_result_larger_than_the_cache_is_returned_but_not_kept() -> None:
    cache = ResultCache(max_cells=5)
    result = cache.get_or_compute("big", lambda: _cellset(50))
    assert len(result.cells) == 50
    assert len(cache) == 0


def test_errors_are_not_cached() -> None:
    cache = ResultCache(max_cells=100)

    def failing() -> CellSet:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", failing)
    assert cache.get_or_compute("k", lambda: _cellset(1)).cells[0].value == 0


def test_zero_size_disables_caching() -> None:
    cache = ResultCache(max_cells=0)
    calls = []
    for _ in range(3):
        cache.get_or_compute("k", lambda: calls.append(1) or _cellset(1))  # type: ignore[func-returns-value]
    assert len(calls) == 3


def test_concurrent_use_keeps_the_cell_count_consistent() -> None:
    cache = ResultCache(max_cells=50)

    def work(offset: int) -> None:
        for i in range(200):
            cache.get_or_compute((offset + i) % 37, lambda: _cellset(3))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.cells == 3 * len(cache)
    assert cache.cells <= 50


# -- through the registry: the cache is keyed by the database version it read ---------------------

def _registered_version(registry: object, path: object, version: int) -> None:
    from datetime import date

    from gateway.registry import RegisteredDatabase

    registry.publish(  # type: ignore[attr-defined]
        [RegisteredDatabase(name="FLIS Test-101", url=f"duckdb:///{path}", schema=None, version=version, data_as_of=date(2024, 4, 30))]
    )


def test_registry_queries_reuse_results_until_the_version_changes(tmp_path: Path) -> None:
    import shutil

    import sqlalchemy as sa
    from engine_fixtures import CUBES, load_fixture

    from gateway.engine.cache import EngineCache
    from gateway.engine.execute import Limits, run_query
    from gateway.engine.query import CubeQuery, LevelItem
    from gateway.registry import DatabaseRegistry

    first = tmp_path / "v1.duckdb"
    engine = sa.create_engine(f"duckdb:///{first}")
    with engine.begin() as connection:
        load_fixture(connection)
    engine.dispose()
    registry = DatabaseRegistry(tmp_path / "data", max_open_engines=4)
    _registered_version(registry, first, 1)
    cache = EngineCache(result_cells=10_000)
    query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",), rows=(LevelItem("[Køn].[Køn]"),))
    limits = Limits()

    def run() -> object:
        with registry.connect("FLIS Test-101") as connection:
            return run_query(connection, CUBES, query, limits=limits, allow_individual=False, cache=cache)

    one, two = run(), run()
    assert one is two and cache.results.hits == 1

    second = tmp_path / "v2.duckdb"
    shutil.copyfile(first, second)
    engine = sa.create_engine(f"duckdb:///{second}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE haendelser SET indrejst = indrejst * 10"))
    engine.dispose()
    _registered_version(registry, second, 2)
    three = run()
    assert three is not one
    assert [c.value for c in three.cells] == [None if c.value is None else c.value * 10 for c in one.cells]
    registry.close()


def test_a_plain_connection_is_never_cached(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from engine_fixtures import CUBES, load_fixture

    from gateway.engine.cache import EngineCache
    from gateway.engine.execute import Limits, run_query
    from gateway.engine.query import CubeQuery

    engine = sa.create_engine(f"duckdb:///{tmp_path / 'plain.duckdb'}")
    cache = EngineCache()
    with engine.begin() as connection:
        load_fixture(connection)
        query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",))
        first = run_query(connection, CUBES, query, limits=Limits(), allow_individual=False, cache=cache)
        second = run_query(connection, CUBES, query, limits=Limits(), allow_individual=False, cache=cache)
    engine.dispose()
    assert first is not second and len(cache.results) == 0
