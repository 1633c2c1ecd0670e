"""Borger by month: synthetic source → load → cubes, checked against the source rows by hand.

Befolkningstal is the mean population of the selected period (person-days ÷ the period's days),
so "pr. 10.000 indbyggere" is the period's events over that mean × 10,000 at every grain. The
worked examples below recompute that from the delivered monthly rows, not from the cube's tables.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from data_sources import write_csv

from gateway.data.loader import LoadRequest, load_database
from gateway.data.synth import GenerateOptions, generate
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.errors import LoadError
from gateway.model.load import load_area
from gateway.model.types import Cube
from gateway.model.view import exact_view
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

AS_OF = date(2024, 6, 14)  # the last whole month delivered is May 2024
KOMMUNER = ("101", "147")
EVENTS = {  # measure → source column
    "Antal fødte borgere": "foedte", "Antal døde borgere": "doede", "Antal tilflyttede borgere": "tilflyttede",
    "Antal fraflyttede borgere": "fraflyttede", "Antal indrejste borgere": "indvandrede",
    "Antal udrejste borgere": "udvandrede",
}
PER_10000 = {  # measure → its numerator as source columns (+1 / -1)
    "Antal fødte pr. 10.000 indbyggere": {"foedte": 1},
    "Antal døde pr. 10.000 indbyggere": {"doede": 1},
    "Fødselsoverskud pr. 10.000 indbyggere": {"foedte": 1, "doede": -1},
    "Antal tilflyttede pr. 10.000 indbyggere": {"tilflyttede": 1},
    "Antal fraflyttede pr. 10.000 indbyggere": {"fraflyttede": 1},
    "Tilflytningsoverskud pr. 10.000 indbyggere": {"tilflyttede": 1, "fraflyttede": -1},
    "Antal indrejste pr. 10.000 indbyggere": {"indvandrede": 1},
    "Antal udrejste pr. 10.000 indbyggere": {"udvandrede": 1},
    "Indvandringsoverskud pr. 10.000 indbyggere": {"indvandrede": 1, "udvandrede": -1},
    "Frem-/tilbagegang i alt pr. 10.000 indbyggere": {
        "foedte": 1, "doede": -1, "tilflyttede": 1, "fraflyttede": -1, "indvandrede": 1, "udvandrede": -1},
}


@dataclass(frozen=True)
class World:
    sources: Path
    registry: DatabaseRegistry
    kommune: Cube
    benchmark: Cube


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("borger")
    settings = Settings.from_env({"DATAADGANG_HOME": str(home / "home")})
    generate(home / "src", GenerateOptions(seed=7, as_of=AS_OF, kommuner=KOMMUNER), areas=("borger",))
    registry = DatabaseRegistry.from_settings(settings)
    for kode in (*KOMMUNER, None):
        load_database(LoadRequest("borger", kode, home / "src" / "borger" / (kode or "benchmark")),
                      schema_dir=settings.schema_dir, registry=registry)
    area = load_area(settings.schema_dir / "borger.yaml")
    yield World(home / "src" / "borger", registry, exact_view(area.kommune_cubes[0]), exact_view(area.benchmark_cubes[0]))
    registry.close()


def _source(world: World, kode: str, where: str) -> tuple[float, ...]:
    """Per source month (year, month, days): events by column and mean population, summed over groups."""
    columns = ", ".join(f"sum({c})" for c in (*EVENTS.values(), "folketal"))
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT aar, maaned, {columns} FROM '{world.sources / kode / 'befolkning.parquet'}' "
            f"WHERE {where} GROUP BY aar, maaned ORDER BY aar, maaned"
        ).fetchall()
    names = (*EVENTS.values(), "folketal")
    events = {c: float(sum(r[2 + i] for r in rows)) for i, c in enumerate(names[:-1])}
    days = [calendar.monthrange(r[0], r[1])[1] for r in rows]
    mean = sum(r[-1] * d for r, d in zip(rows, days)) / sum(days)  # the period's mean population
    return tuple(sum(sign * events[c] for c, sign in PER_10000[m].items()) / mean * 10_000 for m in PER_10000) + (mean,)


def _answer(world: World, database: str, cube: Cube, query: CubeQuery) -> dict[tuple[str, ...], list[float | None]]:
    with world.registry.connect(database) as connection:
        result = run_query(connection, (cube,), query, limits=Limits())
    width = len(query.measures)
    return {
        tuple(m.key for m in row.members): [c.value for c in result.cells[i * width:(i + 1) * width]]
        for i, row in enumerate(result.axes[1].tuples)
    }


MEASURES = (*PER_10000, "Befolkningstal")


def test_a_months_per_10000_figures_are_its_events_over_its_mean_population(world: World) -> None:
    by_month = _answer(world, "FLIS Borger-101", world.kommune,
                       CubeQuery("Borger", MEASURES, rows=(LevelItem("[Tid].[Tid].[Måned]"),)))
    assert list(by_month)[0] == ("2018-01",) and list(by_month)[-1] == ("2024-05",) and len(by_month) == 6 * 12 + 5
    by_hand = _source(world, "101", "aar = 2023 AND maaned = 2")
    assert by_month[("2023-02",)] == pytest.approx(list(by_hand))


def test_a_years_figures_are_its_months_events_over_the_years_mean_population(world: World) -> None:
    query = CubeQuery("Borger", MEASURES, rows=(LevelItem("[Tid].[Tid].[År]"),))
    by_year = _answer(world, "FLIS Borger-101", world.kommune, query)
    by_hand = _source(world, "101", "aar = 2023")
    assert by_year[("2023",)] == pytest.approx(list(by_hand))
    # the part year (January to May 2024) is its own five months' mean, not diluted by June to December
    assert by_year[("2024",)] == pytest.approx(list(_source(world, "101", "aar = 2024")))
    # answered from the yearly aggregation, and the fact table gives the same
    with world.registry.connect("FLIS Borger-101") as connection:
        assert plan_query(connection, (world.kommune,), query, cell_limit=1000).aggregation is not None
    unaggregated = _answer(world, "FLIS Borger-101", replace(world.kommune, aggregations=()), query)
    assert unaggregated.keys() == by_year.keys()
    assert all(unaggregated[year] == pytest.approx(values) for year, values in by_year.items())


def test_a_quarter_and_the_whole_period_follow_the_same_rule(world: World) -> None:
    by_quarter = _answer(world, "FLIS Borger-101", world.kommune,
                         CubeQuery("Borger", MEASURES, rows=(LevelItem("[Tid].[Tid].[Kvartal]"),)))
    assert by_quarter[("2023-K3",)] == pytest.approx(list(_source(world, "101", "aar = 2023 AND maaned IN (7, 8, 9)")))
    (everything,) = _answer(world, "FLIS Borger-101", world.kommune, CubeQuery("Borger", MEASURES)).values()
    assert everything == pytest.approx(list(_source(world, "101", "true")))


def test_the_benchmark_is_the_sum_of_the_kommuner_on_the_exact_path(world: World) -> None:
    counts = (*EVENTS, "Befolkningstal")
    months = (LevelItem("[Tid].[Tid].[Måned]"),)
    own = [_answer(world, f"FLIS Borger-{kode}", world.kommune, CubeQuery("Borger", counts, rows=months)) for kode in KOMMUNER]
    both = _answer(world, "FLIS Borger Benchmark", world.benchmark, CubeQuery(
        "Borger Benchmark", (*counts, "Frem-/tilbagegang i alt pr. 10.000 indbyggere"), rows=months,
        slicers=tuple(f"[Kommune].[Kommune].[Kommune].&[{kode}]" for kode in KOMMUNER)))
    assert list(both) == list(own[0])
    for month, values in both.items():
        summed = [a + b for a, b in zip(own[0][month], own[1][month], strict=True)]  # type: ignore[operator]
        assert values[:-1] == pytest.approx(summed)
        net = summed[0] - summed[1] + summed[2] - summed[3] + summed[4] - summed[5]
        assert values[-1] == pytest.approx(net / summed[-1] * 10_000)
    # and per kommune, the benchmark's rows are the kommune's own cube
    per_kommune = _answer(world, "FLIS Borger Benchmark", world.benchmark, CubeQuery(
        "Borger Benchmark", counts, rows=(LevelItem("[Kommune].[Kommune].[Kommune]"), LevelItem("[Tid].[Tid].[År]"))))
    own_years = _answer(world, "FLIS Borger-147", world.kommune,
                        CubeQuery("Borger", counts, rows=(LevelItem("[Tid].[Tid].[År]"),)))
    theirs = {(year,): v for (kode, year), v in per_kommune.items() if kode == "147"}
    assert theirs.keys() == own_years.keys()
    assert all(theirs[year] == pytest.approx(values) for year, values in own_years.items())


# --- a bad monthly source is refused by file, row and column; the current version keeps serving

HEADER = ("aar", "maaned", "aldersgruppe", "statsborgerskab", "foedte", "doede", "tilflyttede", "fraflyttede",
          "indvandrede", "udvandrede", "folketal")
GOOD = (("2024", "1", "0-16", "Dansk", "5", "0", "9", "8", "1", "0", "1200"),
        ("2024", "1", "67+", "Dansk", "0", "4", "2", "3", "0", "0", "900"),
        ("2024", "2", "0-16", "Dansk", "4", "0", "7", "9", "0", "1", "1210"),
        ("2024", "2", "67+", "Dansk", "0", "3", "1", "2", "0", "0", "905"))


def _borger_source(directory: Path, rows: tuple[tuple[str, ...], ...]) -> Path:
    write_csv(directory / "befolkning.csv", HEADER, rows)
    write_csv(directory / "dim_aldersgruppe.csv", ("aldersgruppe", "aldersgruppe_tekst", "sortering"),
              [("0-16", "0-16 årige", "1"), ("67+", "67+ årige", "3")])
    write_csv(directory / "dim_statsborgerskab.csv", ("statsborgerskab", "statsborgerskab_tekst", "sortering"),
              [("Dansk", "Dansk", "1")])
    return directory


def _with(row: int, column: str, value: str) -> tuple[tuple[str, ...], ...]:
    rows = [list(r) for r in GOOD]
    rows[row][HEADER.index(column)] = value
    return tuple(tuple(r) for r in rows)


@pytest.fixture
def loaded(settings: Settings, registry: DatabaseRegistry, tmp_path: Path) -> Path:
    """A good version of FLIS Borger-101 (two months), then the directory a bad delivery goes to."""
    load_database(LoadRequest("borger", "101", _borger_source(tmp_path / "good", GOOD), as_of=date(2024, 3, 1)),
                  schema_dir=settings.schema_dir, registry=registry)
    return tmp_path / "bad"


def _refused(settings: Settings, registry: DatabaseRegistry, source: Path) -> str:
    with pytest.raises(LoadError) as refused:
        load_database(LoadRequest("borger", "101", source, as_of=date(2024, 3, 1)),
                      schema_dir=settings.schema_dir, registry=registry)
    assert registry.get("FLIS Borger-101").version == 1  # type: ignore[union-attr]
    return str(refused.value)


@pytest.mark.parametrize("month", ["13", "0"])
def test_a_month_out_of_range_is_refused(settings: Settings, registry: DatabaseRegistry, loaded: Path, month: str) -> None:
    message = _refused(settings, registry, _borger_source(loaded, _with(2, "maaned", month)))
    assert message.endswith(f"befolkning.csv, row 4, column 'maaned': value {month} is not a month (1–12)")


def test_a_duplicate_row_is_refused(settings: Settings, registry: DatabaseRegistry, loaded: Path) -> None:
    message = _refused(settings, registry, _borger_source(loaded, (*GOOD, GOOD[1])))
    assert message.endswith("befolkning.csv, row 6, column 'statsborgerskab': duplicate key '2024 / 1 / 67+ / Dansk' (first on row 3)")


@pytest.mark.parametrize("column", ["doede", "folketal"])
def test_a_negative_count_is_refused(settings: Settings, registry: DatabaseRegistry, loaded: Path, column: str) -> None:
    message = _refused(settings, registry, _borger_source(loaded, _with(1, column, "-2")))
    assert message.endswith(f"befolkning.csv, row 3, column '{column}': value -2 is not a count (≥ 0)")


def test_a_month_after_data_as_of_is_refused(settings: Settings, registry: DatabaseRegistry, loaded: Path) -> None:
    message = _refused(settings, registry, _borger_source(loaded, _with(3, "maaned", "4")))
    assert message.endswith("row 5, column 'maaned': month 2024-04 is after the data-as-of date 2024-03-01")


def test_a_missing_month_is_refused(settings: Settings, registry: DatabaseRegistry, loaded: Path) -> None:
    gap = (*GOOD[:2], _with(2, "maaned", "3")[2])  # January, then March
    message = _refused(settings, registry, _borger_source(loaded, gap))
    assert message.endswith("column 'maaned': no rows for month 2024-02: every month from the first (2024-01) "
                            "to the last (2024-03) must be delivered, or the mean population over them is wrong")


def test_a_good_delivery_is_two_months_with_their_days(settings: Settings, registry: DatabaseRegistry, loaded: Path) -> None:
    with registry.connect("FLIS Borger-101") as connection:
        months = connection.execute(sa.text("SELECT maaned, dage FROM dim_tid ORDER BY maaned")).all()
        persondage = connection.execute(sa.text("SELECT maaned, sum(persondage) FROM befolkning GROUP BY 1 ORDER BY 1")).all()
    assert [tuple(r) for r in months] == [("2024-01", 31), ("2024-02", 29)]  # a leap year; no March: not delivered
    assert [tuple(r) for r in persondage] == [("2024-01", (1200 + 900) * 31), ("2024-02", (1210 + 905) * 29)]
