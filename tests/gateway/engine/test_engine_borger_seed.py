"""The Borger report's movements (seed 002, "Befolkningsbevægelser efter kommune") from schema/borger.yaml.

The seed's figures for two kommuner (its third and fourth columns; OCR-garbled cells left out):

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

The seed prints no folketal; 73.800 reproduces all four rounded figures. The two kommuner are two
years of one kommune here (the kommune cube has no Kommune dimension); the real model file is
loaded, so a changed expression fails this test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.model import load_area
from gateway.model.types import Cube
from gateway.model.view import exact_view

SCHEMA = Path(__file__).resolve().parents[3] / "schema" / "borger.yaml"
# aar, foedte, doede, tilflyttede, fraflyttede, indvandrede (indrejste), udvandrede (udrejste), folketal
SEED = [("2021", 558, 934, 3528, 2670, 1912, 593, 73_800), ("2022", 318, 321, 2994, 2148, 577, 190, 64_000)]
MOVEMENTS = ("Fødselsoverskud", "Tilflytningsoverskud", "Indvandringsoverskud", "Frem-/tilbagegang i alt")


def _cube() -> Cube:
    (cube,) = load_area(SCHEMA, label="schema/borger.yaml").kommune_cubes
    return exact_view(cube)


@pytest.fixture(scope="module")
def db() -> Iterator[Connection]:
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as connection:
        for statement in (
            "CREATE TABLE dim_aar (aar VARCHAR, aar_tekst VARCHAR, dage INTEGER)",
            "CREATE TABLE dim_aldersgruppe (aldersgruppe VARCHAR, aldersgruppe_tekst VARCHAR, sortering INTEGER)",
            "CREATE TABLE dim_statsborgerskab (statsborgerskab VARCHAR, statsborgerskab_tekst VARCHAR, sortering INTEGER)",
            "CREATE TABLE befolkning (aar VARCHAR, aldersgruppe VARCHAR, statsborgerskab VARCHAR, foedte INTEGER,"
            " doede INTEGER, tilflyttede INTEGER, fraflyttede INTEGER, indvandrede INTEGER, udvandrede INTEGER,"
            " folketal INTEGER)",
            "INSERT INTO dim_aar VALUES ('2021', '2021', 365), ('2022', '2022', 365)",
            "INSERT INTO dim_aldersgruppe VALUES ('17-66', '17-66 årige', 1)",
            "INSERT INTO dim_statsborgerskab VALUES ('DK', 'Dansk', 1)",
        ):
            connection.execute(sa.text(statement))
        for row in SEED:
            connection.execute(sa.text("INSERT INTO befolkning VALUES (:a, '17-66', 'DK', :f, :d, :t, :u, :i, :e, :p)"),
                               dict(zip("afdtuiep", row, strict=True)))
        yield connection
    engine.dispose()


def _by_year(db: Connection, measures: tuple[str, ...]) -> dict[str, list[float | None]]:
    query = CubeQuery("Borger", tuple(f"[Measures].[{m}]" for m in measures), rows=(LevelItem("[Tid].[Tid].[År]"),))
    result = run_query(db, (_cube(),), query, limits=Limits(cell_limit=1000, timeout_seconds=30))
    width = len(measures)
    return {
        row.members[0].key: [c.value for c in result.cells[i * width : (i + 1) * width]]
        for i, row in enumerate(result.axes[1].tuples)
    }


def test_the_surpluses_and_the_total_are_the_seeds_figures(db: Connection) -> None:
    found = _by_year(db, MOVEMENTS)
    assert found["2021"] == [558 - 934, 858, 1319, 1801]
    fodselsoverskud, _, indvandringsoverskud, total = found["2022"]
    assert (fodselsoverskud, indvandringsoverskud, total) == (-3, 387, 1230)


def test_per_10000_inhabitants_rounds_to_the_seeds_figures(db: Connection) -> None:
    per_10000 = _by_year(db, tuple(f"{m} pr. 10.000 indbyggere" for m in MOVEMENTS))["2021"]
    assert [round(v) for v in per_10000 if v is not None] == [-51, 116, 179, 244]
    assert per_10000[3] == pytest.approx(1801 * 10_000 / 73_800)


def test_the_seeds_words_name_the_measures_in_both_cubes() -> None:
    area = load_area(SCHEMA, label="schema/borger.yaml")
    for cube in (*area.kommune_cubes, *area.benchmark_cubes):
        names = {m.name for m in cube.measures}
        assert {"Indrejste", "Udrejste", *MOVEMENTS} <= names
        assert {f"{m} pr. 10.000 indbyggere" for m in ("Indrejste", "Udrejste", *MOVEMENTS)} <= names
        assert not names & {"Indvandrede", "Udvandrede"}
