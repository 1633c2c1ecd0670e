"""The engine answers the reference model schema/ukraine.yaml, loaded by gateway.model.load."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection

from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.model.load import load_area
from gateway.model.view import exact_view

SCHEMA = Path(__file__).resolve().parents[3] / "schema" / "ukraine.yaml"


def test_ukraine_yaml_cube_runs_on_fixture_tables(db: Connection) -> None:
    cubes = tuple(exact_view(cube) for cube in load_area(SCHEMA).kommune_cubes)  # as an individual grant sees it
    query = CubeQuery("Ukraine Statistik", ("[Measures].[Nettoindvandring]", "[Measures].[Akkumuleret tilvækst]"),
                      rows=(LevelItem("[Tid].[Tid].[Måned]"),), columns=(LevelItem("[Køn].[Køn]"),))
    result = run_query(db, cubes, query, limits=Limits(10_000, 10))
    assert [r[0] for r in result.to_rowset().rows] == ["januar 2022", "februar 2022", "marts 2022", "april 2022"]
    # April: Kvinde's one departure; Mand has no events (empty) but keeps his accumulated 3
    assert result.to_rowset().rows[3][1:] == (-1, 1, None, 3)
