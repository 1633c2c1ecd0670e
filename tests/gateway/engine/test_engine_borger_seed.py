"""The Borger report (seed 002, "BORGER RAPPORT", "Befolkningsbevægelser efter kommune") in schema/borger.yaml.

The seed is an OCR of KOMBIT's report catalogue; the constants below are its words, with the OCR's
garbling undone ("Antal figdte borgere" is "Antal fødte borgere"), so the repository stands alone.
Its figures for two kommuner (its third and fourth columns; OCR-garbled cells left out):

    Antal fødte borgere          558     318
    Antal døde borgere           934     321
    Antal tilflyttede borgere    3528    2994
    Antal fraflyttede borgere    2670    2148
    Tilflytningsoverskud         858     (46)
    Antal indrejste borgere      1.912   577
    Antal udrejste borgere       593     190
    Indvandringsoverskud         1319    387
    Frem-/ tilbagegang i alt     1.801   1.230

and, per 10.000 indbyggere for the first of them:

    Fødselsoverskud pr 10.000 indbyggere        -51
    Tilflytningsoverskud pr 10.000 indbyggere   116
    Indvandringsoverskud pr 10,000 indbyggere   179
    Frem-/tilbagegang i alt pr. 10.000 indbyggere 244

The seed prints no folketal; a mean of 73.800 reproduces all four rounded figures. The two
kommuner are two months of one kommune here (the kommune cube has no Kommune dimension), each
month's Befolkningstal its person-days over its days; the real model file is loaded, so a changed
name or expression fails this test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.data.synth.borger import AGES
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.model import load_area
from gateway.model.types import Cube
from gateway.model.view import exact_view, protected_view

SCHEMA = Path(__file__).resolve().parents[3] / "schema" / "borger.yaml"

# The seed's words (seed 002, lines ~530-570)
SEED_REPORT = "BORGER RAPPORT"
SEED_PAGE = "Befolkningsbevægelser efter kommune"
SEED_TIME_FILTER = "Vælg år og måned"
SEED_COUNTS = ("Antal fødte borgere", "Antal døde borgere", "Antal tilflyttede borgere", "Antal fraflyttede borgere",
               "Antal indrejste borgere", "Antal udrejste borgere")
MOVEMENTS = ("Fødselsoverskud", "Tilflytningsoverskud", "Indvandringsoverskud", "Frem-/tilbagegang i alt")
SEED_PER_10000 = (  # the seed's second table, in its order ("Befolkningsbevægelser ..., fordelt pr. 10.000 indbyggere")
    "Antal fødte pr. 10.000 indbyggere", "Antal døde pr. 10.000 indbyggere", "Fødselsoverskud pr. 10.000 indbyggere",
    "Antal fraflyttede pr. 10.000 indbyggere", "Antal tilflyttede pr. 10.000 indbyggere",
    "Tilflytningsoverskud pr. 10.000 indbyggere", "Antal indrejste pr. 10.000 indbyggere",
    "Antal udrejste pr. 10.000 indbyggere", "Indvandringsoverskud pr. 10.000 indbyggere",
    "Frem-/tilbagegang i alt pr. 10.000 indbyggere",
)
SEED_POPULATION = "Befolkningstal"
SEED_AGE_GROUPS = ("0-16 årige", "17-66 årige", "67+ årige")

# maaned, dage, foedte, doede, tilflyttede, fraflyttede, indvandrede (indrejste), udvandrede (udrejste), mean population
SEED = [("2022-01", 31, 558, 934, 3528, 2670, 1912, 593, 73_800), ("2022-02", 28, 318, 321, 2994, 2148, 577, 190, 64_000)]
SMALL = 2  # a mean population of two: 67+ Vestlig in February


def _cube() -> Cube:
    (cube,) = load_area(SCHEMA, label="schema/borger.yaml").kommune_cubes
    return exact_view(cube)


@pytest.fixture(scope="module")
def db() -> Iterator[Connection]:
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as connection:
        for statement in (
            "CREATE TABLE dim_tid (aar VARCHAR, aar_tekst VARCHAR, kvartal VARCHAR, kvartal_tekst VARCHAR,"
            " maaned VARCHAR, maaned_tekst VARCHAR, dage INTEGER)",
            "CREATE TABLE dim_aldersgruppe (aldersgruppe VARCHAR, aldersgruppe_tekst VARCHAR, sortering INTEGER)",
            "CREATE TABLE dim_statsborgerskab (statsborgerskab VARCHAR, statsborgerskab_tekst VARCHAR, sortering INTEGER)",
            "CREATE TABLE befolkning (maaned VARCHAR, aldersgruppe VARCHAR, statsborgerskab VARCHAR, foedte INTEGER,"
            " doede INTEGER, tilflyttede INTEGER, fraflyttede INTEGER, indvandrede INTEGER, udvandrede INTEGER,"
            " persondage BIGINT)",
            "INSERT INTO dim_tid VALUES ('2022', '2022', '2022-K1', '1. kvt. 2022', '2022-01', 'januar 2022', 31),"
            " ('2022', '2022', '2022-K1', '1. kvt. 2022', '2022-02', 'februar 2022', 28)",
            "INSERT INTO dim_aldersgruppe VALUES ('17-66', '17-66 årige', 2), ('67+', '67+ årige', 3)",
            "INSERT INTO dim_statsborgerskab VALUES ('DK', 'Dansk', 1), ('V', 'Vestlig', 2)",
            f"INSERT INTO befolkning VALUES ('2022-02', '67+', 'V', 0, 0, 0, 0, 0, 0, {SMALL * 28})",
        ):
            connection.execute(sa.text(statement))
        for month, days, *counts, population in SEED:
            connection.execute(sa.text("INSERT INTO befolkning VALUES (:m, '17-66', 'DK', :f, :d, :t, :u, :i, :e, :p)"),
                               dict(zip("mfdtuiep", (month, *counts, population * days), strict=True)))
        yield connection
    engine.dispose()


def _by_month(db: Connection, measures: tuple[str, ...], cube: Cube | None = None) -> dict[str, list[float | None]]:
    query = CubeQuery("Borger", tuple(f"[Measures].[{m}]" for m in measures), rows=(LevelItem("[Tid].[Tid].[Måned]"),))
    result = run_query(db, (cube or _cube(),), query, limits=Limits(cell_limit=1000, timeout_seconds=30))
    width = len(measures)
    return {
        row.members[0].key: [c.value for c in result.cells[i * width : (i + 1) * width]]
        for i, row in enumerate(result.axes[1].tuples)
    }


def test_the_surpluses_and_the_total_are_the_seeds_figures(db: Connection) -> None:
    found = _by_month(db, MOVEMENTS)
    assert found["2022-01"] == [558 - 934, 858, 1319, 1801]
    fodselsoverskud, _, indvandringsoverskud, total = found["2022-02"]
    assert (fodselsoverskud, indvandringsoverskud, total) == (-3, 387, 1230)


def test_per_10000_inhabitants_rounds_to_the_seeds_figures(db: Connection) -> None:
    per_10000 = _by_month(db, tuple(f"{m} pr. 10.000 indbyggere" for m in MOVEMENTS))["2022-01"]
    assert [round(v) for v in per_10000 if v is not None] == [-51, 116, 179, 244]
    assert per_10000[3] == pytest.approx(1801 * 10_000 / 73_800)
    assert _by_month(db, (SEED_POPULATION,))["2022-01"] == [pytest.approx(73_800)]  # a month's mean population


def test_the_seeds_words_name_the_measures_and_levels_in_both_cubes() -> None:
    area = load_area(SCHEMA, label="schema/borger.yaml")
    assert SEED_PAGE in area.description or SEED_PAGE in (area.kommune_cubes[0].description or "")
    for cube in (*area.kommune_cubes, *area.benchmark_cubes):
        names = [m.name for m in cube.measures]
        assert {*SEED_COUNTS, *MOVEMENTS, *SEED_PER_10000, SEED_POPULATION} <= set(names)
        assert [n for n in names if n.endswith("pr. 10.000 indbyggere")] == list(SEED_PER_10000)  # the seed's order
        assert not set(names) & {"Fødte", "Døde", "Indrejste", "Udrejste", "Folketal", "Indvandrede", "Udvandrede"}
        (tid,) = [d for d in cube.dimensions if d.is_time]
        levels = [level.name for level in tid.hierarchies[0].levels]
        assert levels == ["År", "Kvartal", "Måned"]  # SEED_TIME_FILTER: "Vælg år og måned"
        assert all(word.lower() in SEED_TIME_FILTER.lower() for word in (levels[0], levels[2]))
    assert tuple(text for _key, text, *_rest in AGES) == SEED_AGE_GROUPS  # the demo's captions


def test_under_disclosure_control_a_mean_population_is_protected_as_a_count(db: Connection) -> None:
    (cube,) = load_area(SCHEMA, label="schema/borger.yaml").kommune_cubes
    protected = protected_view(cube, b"a deployment's secret key")
    query = CubeQuery("Borger", (f"[Measures].[{SEED_POPULATION}]", "[Measures].[Antal fødte pr. 10.000 indbyggere]"),
                      rows=(LevelItem("[Tid].[Tid].[Måned]"), LevelItem("[Aldersgruppe].[Aldersgruppe]")))
    result = run_query(db, (protected,), query, limits=Limits(cell_limit=1000, timeout_seconds=30))
    cells = {tuple(m.key for m in row.members): [c.value for c in result.cells[i * 2 : i * 2 + 2]]
             for i, row in enumerate(result.axes[1].tuples)}
    large, per_10000 = cells[("2022-01", "17-66")]  # one fact row, yet not empty: the row is a count, not a person
    assert large is not None and abs(large - 73_800) <= protected.disclosure.max_noise  # type: ignore[union-attr]
    assert per_10000 is not None and per_10000 == pytest.approx(10_000 * round(per_10000 * large / 10_000) / large)
    small, _ = cells[("2022-02", "67+")]
    assert small in (0, protected.disclosure.threshold)  # type: ignore[union-attr]  # two persons: never shown as two
