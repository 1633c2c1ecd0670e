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


# -- through the registry: member lookups are remembered per database version ---------------------

def _registered_version(registry: object, path: object, version: int) -> None:
    from datetime import date

    from gateway.registry import RegisteredDatabase

    registry.publish(  # type: ignore[attr-defined]
        [RegisteredDatabase(name="FLIS Test-101", url=f"duckdb:///{path}", schema=None, version=version, data_as_of=date(2024, 4, 30))]
    )


def _counting(engine_or_connection: object) -> list[str]:
    import sqlalchemy as sa

    statements: list[str] = []
    sa.event.listen(engine_or_connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_member_lookups_are_reused_for_the_same_version_and_redone_for_a_new_one(tmp_path: Path) -> None:
    import shutil

    import sqlalchemy as sa
    from engine_fixtures import CUBES, load_fixture

    from gateway.engine.cache import VersionMemo
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
    memo = VersionMemo()
    query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",), rows=(LevelItem("[Køn].[Køn]"),), slicers=("[Køn].[Køn].&[K]",))

    def run() -> tuple[object, int]:
        with registry.connect("FLIS Test-101") as connection:
            statements = _counting(connection)
            result = run_query(connection, CUBES, query, limits=Limits(), memo=memo)
            return result, len(statements)

    one, cold = run()
    two, warm = run()
    assert warm == 1 and cold > warm  # only the fact statement the second time
    assert [c.value for c in one.cells] == [c.value for c in two.cells]  # type: ignore[attr-defined]

    second = tmp_path / "v2.duckdb"
    shutil.copyfile(first, second)
    _registered_version(registry, second, 2)
    _three, after_swap = run()
    assert after_swap == cold  # a new version: nothing remembered from the old one
    registry.close()


def test_a_plain_connection_remembers_nothing(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from engine_fixtures import CUBES, load_fixture

    from gateway.engine.cache import VersionMemo
    from gateway.engine.execute import Limits, run_query
    from gateway.engine.query import CubeQuery, LevelItem

    engine = sa.create_engine(f"duckdb:///{tmp_path / 'plain.duckdb'}")
    memo = VersionMemo()
    with engine.begin() as connection:
        load_fixture(connection)
        statements = _counting(connection)
        query = CubeQuery("Ukraine", ("[Measures].[Indrejste]",), rows=(LevelItem("[Køn].[Køn]"),))
        run_query(connection, CUBES, query, limits=Limits(), memo=memo)
        first = len(statements)
        run_query(connection, CUBES, query, limits=Limits(), memo=memo)
    engine.dispose()
    assert len(statements) == 2 * first


def test_member_memo_is_bounded_by_the_size_of_its_answers() -> None:
    from gateway.engine.cache import VersionMemo

    memo = VersionMemo(max_entries=100, max_weight=10)
    memo.get_or_compute("a", lambda: [1] * 6, weight=len)
    memo.get_or_compute("b", lambda: [2] * 6, weight=len)  # 12 > 10: a goes
    calls = []
    memo.get_or_compute("a", lambda: calls.append("a") or [1] * 6, weight=len)  # type: ignore[func-returns-value]
    assert calls == ["a"]
    huge = memo.get_or_compute("c", lambda: [3] * 50, weight=len)  # bigger than the memo: returned, not kept
    assert len(huge) == 50
    again = []
    memo.get_or_compute("c", lambda: again.append(1) or [3] * 50, weight=len)  # type: ignore[func-returns-value]
    assert again == [1]
