"""The area models and the loaded databases agree: every table and column a model names exists,
and every fact foreign key finds its dimension row (what the query engine relies on)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.data.demo import build_demo_data
from gateway.model.load import load_catalog
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings.from_env({"DATAADGANG_HOME": str(tmp_path_factory.mktemp("home"))})
    names = build_demo_data(settings, seed=5, progress=False, as_of=date(2024, 2, 29), kommuner=["101", "183", "187"])
    assert len(names) == 4 + 4 + 4 + 1  # three kommuner and a benchmark per area; the KL Databank
    return settings


def test_every_model_table_and_column_exists_and_every_key_joins(demo: Settings) -> None:
    catalog = load_catalog(demo.schema_dir)
    registry = DatabaseRegistry.from_settings(demo)
    checked = 0
    for entry in registry.all():
        ref = catalog.resolve_database(entry.name)
        assert ref is not None, entry.name
        with registry.connect(entry.name) as connection:
            columns: dict[str, set[str]] = {}
            for table, column in connection.execute(sa.text("SELECT table_name, column_name FROM information_schema.columns")):
                columns.setdefault(table, set()).add(column)
            assert "data_as_of" in columns["_dataadgang"]
            for cube in catalog.cubes_for(ref):
                fact = columns[cube.fact_table]
                for measure in cube.measures:
                    assert measure.column is None or measure.column in fact, (entry.name, measure.name)
                for dimension in cube.dimensions:
                    table = columns[dimension.table]
                    assert dimension.foreign_key in fact and dimension.key_column in table
                    for hierarchy in dimension.hierarchies:
                        for level in hierarchy.levels:
                            assert {level.key_column, level.caption_column, level.order_column} <= table
                    if dimension.days_column:
                        assert dimension.days_column in table
                    orphans = connection.execute(sa.text(
                        f'SELECT count(*) FROM "{cube.fact_table}" f WHERE NOT EXISTS (SELECT 1 FROM "{dimension.table}" d '
                        f'WHERE d."{dimension.key_column}" = f."{dimension.foreign_key}")')).scalar_one()
                    assert orphans == 0, (entry.name, dimension.name)
                    dupes = connection.execute(sa.text(
                        f'SELECT count(*) - count(DISTINCT "{dimension.key_column}") FROM "{dimension.table}"')).scalar_one()
                    assert dupes == 0, (entry.name, dimension.name)
                checked += 1
    registry.close()
    assert checked == 13


def test_data_as_of_is_recorded_for_the_catalog(demo: Settings) -> None:
    registry = DatabaseRegistry.from_settings(demo)
    assert {e.data_as_of for e in registry.all()} == {date(2024, 2, 29)}
    with registry.connect("FLIS Voksne Handicappede-101") as connection:
        days = dict(connection.execute(sa.text("SELECT maaned, dage FROM dim_tid WHERE aar = '2024'")).all())
        assert days == {"2024-01": 31, "2024-02": 29}
    registry.close()


def test_loaded_files_stay_in_the_data_dir(demo: Settings) -> None:
    leftovers = [p for p in Path(demo.data_dir).iterdir() if p.name.startswith("demo-sources-")]
    assert leftovers == []
