"""The Ukraine area as built: data begin 2022-01-01 (the documented convention), and the
benchmark database is exactly the sum of the kommune databases before disclosure control, and
never exact after it, whoever reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from data_sources import UKRAINE_HEADER, write_csv, write_ukraine_source

from gateway.data.demo import build_demo_data
from gateway.data.loader import LoadRequest, load_database
from gateway.data.synth import GenerateOptions, generate
from gateway.data.transform.ukraine import FIRST_DAY
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem
from gateway.errors import LoadError
from gateway.model.load import load_area
from gateway.model.types import Cube
from gateway.model.view import exact_view, protected_view
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

AS_OF = date(2024, 2, 29)
KOMMUNER = ("101", "147", "751")
BENCHMARK = "FLIS Ukraine Benchmark"
CUBE = "Ukraine Statistik"
COUNTS = ("Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede")
ALL = (*COUNTS, "Nettoindvandring", "Nettotilvækst", "Akkumuleret tilvækst")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, DatabaseRegistry]]:
    settings = Settings.from_env({"DATAADGANG_HOME": str(tmp_path_factory.mktemp("ukraine-home"))})
    names = build_demo_data(settings, seed=11, scale=0.3, progress=False, as_of=AS_OF, kommuner=list(KOMMUNER),
                            areas=("ukraine",), workers=2)
    assert sorted(names) == sorted([*(f"FLIS Ukraine-{k}" for k in KOMMUNER), BENCHMARK])
    registry = DatabaseRegistry.from_settings(settings)
    yield settings, registry
    registry.close()


def _cubes(settings: Settings) -> tuple[Cube, Cube]:
    area = load_area(settings.schema_dir / "ukraine.yaml")
    return area.kommune_cubes[0], area.benchmark_cubes[0]


def _rows(registry: DatabaseRegistry, database: str, cube: Cube, query: CubeQuery) -> dict[tuple[object, ...], list[float]]:
    """Row captions -> values (an empty cell as 0), so databases can be added up."""
    with registry.connect(database) as connection:
        rowset = run_query(connection, (cube,), query, limits=Limits()).to_rowset()
    levels = len(query.rows)
    return {tuple(r[:levels]): [v or 0 for v in r[levels:]] for r in rowset.rows}


def _add(total: dict[tuple[object, ...], list[float]], more: dict[tuple[object, ...], list[float]]) -> None:
    for key, values in more.items():
        total[key] = [a + b for a, b in zip(total.get(key, [0] * len(values)), values)]


# -- start date ----------------------------------------------------------------------------------

def test_every_database_begins_on_2022_01_01_as_the_model_and_the_docs_say(built: tuple[Settings, DatabaseRegistry]) -> None:
    settings, registry = built
    assert FIRST_DAY == date(2022, 1, 1)
    area = load_area(settings.schema_dir / "ukraine.yaml")
    assert "1. januar 2022" in area.description and "efter februar 2022" in area.description
    doc = (settings.schema_dir.parent / "docs" / "ukraine.md").read_text(encoding="utf-8")
    assert "2022-01-01" in doc and "efter februar 2022" in doc
    for database in (*(f"FLIS Ukraine-{k}" for k in KOMMUNER), BENCHMARK):
        with registry.connect(database) as connection:
            first_event = connection.execute(sa.text("SELECT min(dato) FROM haendelser")).scalar_one()
            days = connection.execute(sa.text("SELECT min(dato), max(dato) FROM dim_tid")).one()
        assert first_event >= FIRST_DAY, database
        assert tuple(days) == (FIRST_DAY, AS_OF), database


def test_a_report_filtered_to_after_february_2022_still_accumulates_from_1_january(
    built: tuple[Settings, DatabaseRegistry],
) -> None:
    """The report page's "efter februar 2022" is a filter: the months it shows carry the
    accumulated growth since 2022-01-01, not since March."""
    settings, registry = built
    kommune, _benchmark = _cubes(settings)
    cube = exact_view(kommune)
    months = LevelItem("[Tid].[Tid].[Måned]")
    everything = _rows(registry, "FLIS Ukraine-101", cube, CubeQuery(CUBE, ("Nettotilvækst", "Akkumuleret tilvækst"), rows=(months,)))
    after_february = tuple(f"[Tid].[Tid].[Måned].&[{m}]" for m in ("2022-03", "2022-04", "2022-05"))
    filtered = _rows(registry, "FLIS Ukraine-101", cube,
                     CubeQuery(CUBE, ("Nettotilvækst", "Akkumuleret tilvækst"), rows=(MemberSetItem(after_february),)))
    january_to_march = sum(everything[(m,)][0] for m in ("januar 2022", "februar 2022", "marts 2022"))
    assert everything[("januar 2022",)][0] != 0  # there are arrivals before March in the data
    assert filtered[("marts 2022",)] == [everything[("marts 2022",)][0], january_to_march]
    assert filtered[("maj 2022",)] == everything[("maj 2022",)]


def test_an_event_before_2022_01_01_is_refused(settings: Settings, tmp_path: Path) -> None:
    source = write_ukraine_source(tmp_path / "src", [("2021-12-31", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0")])
    registry = DatabaseRegistry.from_settings(settings)
    try:
        with pytest.raises(LoadError, match="outside 2022-01-01"):
            load_database(LoadRequest("ukraine", "101", source, as_of=AS_OF), schema_dir=settings.schema_dir, registry=registry)
    finally:
        registry.close()


# -- the benchmark -------------------------------------------------------------------------------

QUERIES = {
    "month x sex": CubeQuery(CUBE, ALL, rows=(LevelItem("[Tid].[Tid].[Måned]"),), columns=(LevelItem("[Køn].[Køn]"),)),
    "age group x spouse": CubeQuery(CUBE, ALL, rows=(LevelItem("[Aldersgruppe].[Aldersgruppe]"),
                                                     LevelItem("[Ægtefælle].[Ja/Nej Ægtefælle]"))),
    "where the tilflyttere came from": CubeQuery(CUBE, ("Tilflyttede", "Akkumuleret tilvækst"),
                                                 rows=(LevelItem("[Fra kommune].[Kommunenavn Fraflyt]"),)),
    "where the fraflyttere went": CubeQuery(CUBE, ("Fraflyttede",), rows=(LevelItem("[Til kommune].[Kommunenavn Tilflyt]"),)),
    "day": CubeQuery(CUBE, ALL, rows=(LevelItem("[Tid].[Tid].[Dag]"),)),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_the_exact_benchmark_is_the_sum_of_the_kommune_databases(built: tuple[Settings, DatabaseRegistry], name: str) -> None:
    settings, registry = built
    kommune, benchmark = _cubes(settings)
    query = QUERIES[name]
    total: dict[tuple[object, ...], list[float]] = {}
    for kode in KOMMUNER:
        _add(total, _rows(registry, f"FLIS Ukraine-{kode}", exact_view(kommune), query))
    national = _rows(registry, BENCHMARK, exact_view(benchmark), query)
    assert national == total
    assert any(any(values) for values in national.values())


@pytest.mark.parametrize("kode", KOMMUNER)
def test_each_kommune_in_the_exact_benchmark_is_its_own_database(built: tuple[Settings, DatabaseRegistry], kode: str) -> None:
    settings, registry = built
    kommune, benchmark = _cubes(settings)
    query = QUERIES["month x sex"]
    own = _rows(registry, f"FLIS Ukraine-{kode}", exact_view(kommune), query)
    sliced = CubeQuery(CUBE, query.measures, rows=query.rows, columns=query.columns,
                       slicers=(f"[Bopælskommune].[Bopælskommune].[Kommune].&[{kode}]",))
    assert _rows(registry, BENCHMARK, exact_view(benchmark), sliced) == own


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, DatabaseRegistry]]:
    """All 98 kommuner generated, only their benchmark loaded (one load instead of 99)."""
    settings = Settings.from_env({"DATAADGANG_HOME": str(tmp_path_factory.mktemp("national-home"))})
    written = generate(tmp_path_factory.mktemp("national-sources"), GenerateOptions(seed=12, as_of=AS_OF, scale=0.1),
                       areas=("ukraine",))
    (source,) = [directory for _area, kode, directory in written if kode is None]
    registry = DatabaseRegistry.from_settings(settings)
    load_database(LoadRequest("ukraine", None, source), schema_dir=settings.schema_dir, registry=registry)
    yield settings, registry
    registry.close()


def test_nationally_moves_cancel_and_the_accumulated_growth_is_the_residents(national: tuple[Settings, DatabaseRegistry]) -> None:
    """KL: the number of persons is arrivals minus departures; nationally a move is in and out."""
    settings, registry = national
    _kommune, benchmark = _cubes(settings)
    (values,) = _rows(registry, BENCHMARK, exact_view(benchmark), CubeQuery(CUBE, ALL)).values()
    ind, ud, til, fra, netto, nettotilvaekst, akkumuleret = values
    assert til == fra > 0
    assert netto == nettotilvaekst == akkumuleret == ind - ud
    by_kommune = _rows(registry, BENCHMARK, exact_view(benchmark),
                       CubeQuery(CUBE, ("Indrejste",), rows=(LevelItem("[Bopælskommune].[Kommune]"),)))
    assert len(by_kommune) == 98  # every kommune is a member, with data or without


def test_the_protected_benchmark_shows_no_small_count_and_is_not_exact(built: tuple[Settings, DatabaseRegistry]) -> None:
    settings, registry = built
    _kommune, benchmark = _cubes(settings)
    rule = benchmark.disclosure
    assert rule is not None and rule.threshold == 5
    perturbed = 0
    for name, query in QUERIES.items():
        exact = _rows(registry, BENCHMARK, exact_view(benchmark), query)
        protected = _rows(registry, BENCHMARK, protected_view(benchmark, b"k" * 32), query)
        assert protected.keys() == exact.keys(), name
        for key, values in protected.items():
            for measure, value, true in zip(query.measures, values, exact[key]):
                if measure in COUNTS:
                    assert value == 0 or value >= rule.threshold, (name, key, measure, value)
                    assert abs(value - true) <= max(rule.max_noise, rule.threshold), (name, key, measure)
                perturbed += value != true
    assert perturbed > 0


# -- loading a benchmark -------------------------------------------------------------------------

def _benchmark_source(directory: Path, rows: list[tuple[str, ...]]) -> Path:
    write_ukraine_source(directory)
    header = (UKRAINE_HEADER[0], "kommune", *UKRAINE_HEADER[1:])
    write_csv(directory / "haendelser.csv", header, rows)
    return directory


GOOD = [("2022-03-10", "101", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0"),
        ("2022-05-20", "101", "30-49", "K", "Ja", "101", "751", "0", "0", "0", "1"),
        ("2022-05-20", "751", "30-49", "K", "Ja", "101", "751", "0", "0", "1", "0")]


@pytest.mark.parametrize(("row", "column", "problem"), [
    (("2022-03-10", "000", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0"), "kommune", "not one of the 98 kommuner"),
    (("2022-03-10", "751", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0"), "fra_kommune", "does not involve its kommune"),
    (("2021-12-31", "101", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0"), "dato", "outside 2022-01-01"),
])
def test_a_benchmark_event_that_does_not_belong_is_refused_by_row_and_column(
    settings: Settings, tmp_path: Path, row: tuple[str, ...], column: str, problem: str,
) -> None:
    registry = DatabaseRegistry.from_settings(settings)
    try:
        load_database(LoadRequest("ukraine", None, _benchmark_source(tmp_path / "good", GOOD), as_of=AS_OF),
                      schema_dir=settings.schema_dir, registry=registry)
        with pytest.raises(LoadError) as caught:
            load_database(LoadRequest("ukraine", None, _benchmark_source(tmp_path / "bad", [*GOOD, row]), as_of=AS_OF),
                          schema_dir=settings.schema_dir, registry=registry)
        assert (caught.value.row, caught.value.column) == (5, column) and problem in str(caught.value)
        entry = registry.get(BENCHMARK)
        assert entry is not None and entry.version == 1  # the old version keeps serving
        with registry.connect(BENCHMARK) as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM haendelser")).scalar_one() == 3
            kommuner = connection.execute(sa.text("SELECT count(*) FROM dim_bopaelskommune WHERE kode = '000'")).scalar_one()
        assert kommuner == 0  # Udlandet is a from/to place, never a Bopælskommune
    finally:
        registry.close()


def test_the_cli_loads_a_benchmark_directory(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gateway.cli import main

    source = _benchmark_source(tmp_path / "src", GOOD)
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "load", "ukraine", str(source), "--benchmark",
                                       "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert BENCHMARK in result.output


def test_the_movers_page_reads_from_the_kommunenavn_levels(built: tuple[Settings, DatabaseRegistry]) -> None:
    """Seed 000, page 3: "Hvor kommer tilflytterne fra?" is Akkumuleret tilvækst by Kommunenavn
    Fraflyt (for another kommune: the tilflyttede from it); "Hvor flytter fraflytterne hen?" by
    Kommunenavn Tilflyt (minus the fraflyttede to it)."""
    settings, registry = built
    kommune, _benchmark = _cubes(settings)
    cube = exact_view(kommune)
    came_from = _rows(registry, "FLIS Ukraine-101", cube, QUERIES["where the tilflyttere came from"])
    went_to = _rows(registry, "FLIS Ukraine-101", cube, CubeQuery(CUBE, ("Fraflyttede", "Akkumuleret tilvækst"),
                                                                  rows=(LevelItem("[Til kommune].[Kommunenavn Tilflyt]"),)))
    others = [k for k in came_from if k not in {("København",), ("Udlandet",)}]
    assert sum(came_from[k][0] for k in others) > 0 and sum(went_to[k][0] for k in others) > 0
    for key in others:
        tilflyttede, akkumuleret = came_from[key]
        assert akkumuleret == tilflyttede, key
        fraflyttede, akkumuleret = went_to[key]
        assert akkumuleret == -fraflyttede, key
