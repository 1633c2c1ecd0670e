"""MDX fixtures: the engine's hand-countable cubes on DuckDB and on PostgreSQL, and a runner
that binds MDX against them exactly as ``gateway.mdx.run_mdx`` does, with the engine's
``run_query`` standing in for the session (access and audit are tested through the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Connection, Engine

from gateway.engine.cellset import CellSet
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery
from gateway.engine.resolve import find_cube
from gateway.mdx.bind import Binder
from gateway.mdx.execute import cube_name, execute_select
from gateway.mdx.members import MemberReader
from gateway.mdx.parser import parse_query
from gateway.mdx.result import MdxResult
from tests.gateway.engine.engine_fixtures import CUBES, load_fixture
from tests.support.databases import duckdb_with, postgres_schema_with

LIMITS = Limits(cell_limit=200_000, timeout_seconds=20)
RunMdx = Callable[[str], MdxResult]


@pytest.fixture(scope="module")
def duck_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with duckdb_with(tmp_path_factory.mktemp("mdx") / "cube.duckdb", load_fixture) as engine:
        yield engine

@pytest.fixture(scope="module")
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    with postgres_schema_with(postgres_url, "mdx", load_fixture) as engine:
        yield engine

@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[Connection]:
    engine: Engine = request.getfixturevalue("duck_engine" if request.param == "duckdb" else "pg_engine")
    with engine.connect() as connection:
        yield connection


@pytest.fixture
def duck(duck_engine: Engine) -> Iterator[Connection]:
    with duck_engine.connect() as connection:
        yield connection


def engine_runner(connection: Connection, queries: list[CubeQuery] | None = None) -> Callable[[CubeQuery], CellSet]:
    def run(query: CubeQuery) -> CellSet:
        if queries is not None:
            queries.append(query)
        return run_query(connection, CUBES, query, limits=LIMITS)

    return run


def run_mdx_on(connection: Connection, text: str, *, queries: list[CubeQuery] | None = None,
               cell_limit: int = LIMITS.cell_limit) -> MdxResult:
    select = parse_query(text)
    cube = find_cube(CUBES, cube_name(select, "fixture"))
    binder = Binder(cube, MemberReader(lambda: connection, cube), engine_runner(connection, queries))
    return execute_select(select, binder, catalog="fixture", cell_limit=cell_limit, data_as_of=None)


@pytest.fixture
def mdx(db: Connection) -> RunMdx:
    return lambda text: run_mdx_on(db, text)


def grid(result: MdxResult) -> list[list[object]]:
    """Rows × columns of cell values (a two-axis result), for readable assertions."""
    columns = len(result.axes[0])
    rows = len(result.axes[1]) if len(result.axes) > 1 else 1
    return [[result.cells[r * columns + c].value for c in range(columns)] for r in range(rows)]


def captions(result: MdxResult, axis: int) -> list[str]:
    return [" / ".join(m.caption for m in t) for t in result.axes[axis].tuples]
