"""Properties over many query shapes: additive measures add up; hostile keys stay inert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from engine_fixtures import CUBES, load_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.errors import NotFoundError

LIMITS = Limits(cell_limit=100_000, timeout_seconds=10)
ADDITIVE = ["Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede", "Nettoindvandring", "Nettotilvækst", "Hændelser"]
LEVELS = ["[Tid].[År]", "[Tid].[Kvartal]", "[Tid].[Måned]", "[Tid].[Dag]", "[Aldersgruppe].[Aldersgruppe]",
          "[Køn].[Køn]", "[Ægtefælle].[Ægtefælle]", "[Fra kommune].[Region]", "[Fra kommune].[Kommune]",
          "[Til kommune].[Region]", "[Til kommune].[Kommune]"]
SLICERS = ["[Køn].[Køn].&[K]", "[Køn].[Køn].&[M]", "[Aldersgruppe].[Aldersgruppe].&[voksen]",
           "[Tid].[Tid].[Kvartal].&[2022-K1]", "[Til kommune].[Til kommune].[Kommune].&[101]"]
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def cube_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    path: Path = tmp_path_factory.mktemp("engine_properties") / "cube.duckdb"
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.begin() as connection:
        load_fixture(connection)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@PROPERTY_SETTINGS
@given(
    measures=st.lists(st.sampled_from(ADDITIVE), min_size=1, max_size=3, unique=True),
    level=st.sampled_from(LEVELS),
    slicers=st.lists(st.sampled_from(SLICERS), max_size=3, unique=True),
    non_empty=st.booleans(),
)
def test_additive_measures_sum_over_a_complete_axis_to_the_total(
    cube_db: Connection, measures: list[str], level: str, slicers: list[str], non_empty: bool
) -> None:
    total = run_query(cube_db, CUBES, CubeQuery("Ukraine", tuple(measures), slicers=tuple(slicers)),
                      limits=LIMITS)
    split = run_query(cube_db, CUBES, CubeQuery("Ukraine", tuple(measures), rows=(LevelItem(level),),
                                                slicers=tuple(slicers), non_empty=non_empty),
                      limits=LIMITS)
    for index in range(len(measures)):
        parts = [split.cell(index, row).value for row in range(len(split.axes[1].tuples))]
        present = [p for p in parts if p is not None]
        expected = total.cells[index].value
        assert (sum(present) if present else None) == expected


@PROPERTY_SETTINGS
@given(key=st.text(max_size=30))
def test_any_member_key_text_is_found_or_not_found_never_run(cube_db: Connection, key: str) -> None:
    quoted = key.replace("]", "]]")
    query = CubeQuery("Ukraine", ("Indrejste",), slicers=(f"[Køn].[Køn].&[{quoted}]",))
    if key in ("K", "M"):
        run_query(cube_db, CUBES, query, limits=LIMITS)
        return
    with pytest.raises(NotFoundError):
        run_query(cube_db, CUBES, query, limits=LIMITS)
    assert cube_db.execute(sa.text("select count(*) from dim_koen")).scalar_one() == 2
