"""schema/ukraine.yaml uses the names the seeds use (docs/ukraine.md).

The seeds are quoted verbatim from the project's domain seeds (not shipped with the repository):
``000_0d96ede54d2065ca.txt`` (the Power BI standard report guide, "Få adgang til dagligt
opdateret statistik for antal ind- og udrejste ukrainere") and ``001_f48f2eabe5cb4cf8.txt`` (KL's
page "Ukrainerapport – følg antallet af ukrainske flygtninge i kommunerne"). Each test takes the
name out of the quoted text, so the model is checked against the seed's own words.
"""

from __future__ import annotations

import re

import pytest
from model_fixtures import SCHEMA_DIR

from gateway.data.transform.ukraine import FIRST_DAY
from gateway.model import BinOp, MeasureKind, Ref, load_area, load_catalog
from gateway.model.types import Cube, Dimension

# -- seed 001_f48f2eabe5cb4cf8.txt (KL) -----------------------------------------------------------
SEED_001_CUBE = (
    "Her kan de dagligt opdaterede data for ukrainske flygtninge tilgås direkte fra fx Excel eller "
    "Power BI via datakuben Ukraine Statistik."
)
SEED_001_NATIONAL = (
    "KL har udviklet en datarapport med FLIS, der med daglige opdateringer giver et overblik over "
    "bopælsregistrerede ukrainske statsborgere i den enkelte kommune og på landsplan."
)
SEED_001_DAY_BY_DAY = (
    "Datarapporten giver mulighed for at følge udviklingen dag for dag, samt mulighed for at se "
    "fordeling på bl.a. aldersgrupperinger, køn og civilstand."
)
SEED_001_START = (
    "Opgørelserne i rapporten dækker over antallet af ukrainske statsborgere, som er indrejst i "
    "Danmark siden 1. januar 2022, fordelt på adresse dvs. som er bopælsregistrerede."
)
SEED_001_PERSONS = (
    "Antallet af personer er summen af antallet af indrejste fratrukket antallet af udrejste på den "
    "pågældende dag."
)

# -- seed 000_0d96ede54d2065ca.txt (the standard report guide) ------------------------------------
SEED_000_DIMENSIONS = "Data kan fordeles på aldersgrupper, køn og civilstand (Ægtefælle Ja/Nej)."
SEED_000_OVERBLIK = "Viser nettoindvandring af ukrainske statsborgere efter februar 2022 (indrejste fratrukket udrejste)"
SEED_000_TILVAEKST = (
    "Se udvikling over tid i antal ind- og udrejste samt nettotilvækst i antal ukrainske statsborgere "
    "fordelt på måneder."
)
SEED_000_AKKUMULERET = (
    "Se den akkumulerede vækst i antal ukrainske statsborgere i kommunen over tid ud fra de valgte "
    "parametre i menuen til venstre"
)
# page 3 "Fra- og tilflyttere": two visuals, each a heading, its measure and its field
SEED_000_FROM = "Hvor kommer tilflytterne fra?\n\nRandom akkumuleret tilvækst\n\nKommunenavn Fraflyt"
SEED_000_TO = "Hvor flytter fraflytterne hen?\n\nRandom akkumuleret tilvækst\n\nKommunenavn Tilflyt"
SEED_000_MOVERS = (
    "Se oversigt over hvilke andre kommuner som tilflyttede ukrainske statsborgere kommer fra ud fra de "
    "valgte parametre i menuen til venstre\n\nSe oversigt over hvilke andre kommuner som fraflyttede "
    "ukrainske statsborgere flytter til ud fra de valgte parametre i menuen til venstre"
)
# page 3's filter pane: a title, then each filter's field and its value
SEED_000_FILTERS = "Vælg aldersgruppe\n\nAlle\n\nKøn\n\nAlle\n\nJa/Nej Ægtefælle\n\nAlle"
SEED_000_GRANT = (
    "Den sikkerhedsansvarlige skal give brugerne adgang til de pågældende dataområder i "
    "administrationsportalen. I dette tilfælde ”FLIS DAP Ukraine”"
)
SEED_000_DATABASE = "Database\nFLIS Ukraine-101"

AREA = load_area(SCHEMA_DIR / "ukraine.yaml", label="schema/ukraine.yaml")
CUBES = {"kommune": AREA.kommune_cubes[0], "benchmark": AREA.benchmark_cubes[0]}


def _level_names(dimension: Dimension | None) -> list[str]:
    assert dimension is not None
    return [level.name for hierarchy in dimension.hierarchies for level in hierarchy.levels]


def test_one_cube_per_database_named_as_kl_names_it() -> None:
    found = re.search(r"via datakuben (.+)\.$", SEED_001_CUBE)
    assert found is not None and found.group(1) == "Ukraine Statistik"
    assert len(AREA.kommune_cubes) == len(AREA.benchmark_cubes) == 1
    assert {cube.name for cube in CUBES.values()} == {found.group(1)}


def test_the_database_and_the_grant_are_the_guides() -> None:
    database = SEED_000_DATABASE.split("\n")[1]
    catalog = load_catalog(SCHEMA_DIR)
    ref = catalog.resolve_database(database)
    assert ref is not None and (ref.name, ref.area, ref.kommune_kode) == (database, "ukraine", "101")
    grant = SEED_000_GRANT.split("”")[1]
    assert AREA.grant_name == grant == "FLIS DAP Ukraine"


def test_the_national_picture_is_a_benchmark_database() -> None:
    assert SEED_001_NATIONAL.endswith("i den enkelte kommune og på landsplan.")
    assert AREA.naming.benchmark == "FLIS Ukraine Benchmark"
    catalog = load_catalog(SCHEMA_DIR)
    benchmark = catalog.resolve_database(AREA.naming.benchmark)
    assert benchmark is not None and benchmark.kommune_kode is None  # readable from every kommune, by grantees
    assert _level_names(CUBES["benchmark"].dimension("Bopælskommune")) == ["Region", "Kommune"]


@pytest.mark.parametrize("kind", list(CUBES))
def test_the_movers_page_levels_carry_the_reports_captions(kind: str) -> None:
    cube = CUBES[kind]
    from_field = SEED_000_FROM.split("\n")[-1]
    to_field = SEED_000_TO.split("\n")[-1]
    assert (from_field, to_field) == ("Kommunenavn Fraflyt", "Kommunenavn Tilflyt")
    # "hvilke andre kommuner som tilflyttede ... kommer fra": the from-kommune; "... flytter til": the to-kommune
    assert "tilflyttede ukrainske statsborgere kommer fra" in SEED_000_MOVERS
    assert "fraflyttede ukrainske statsborgere flytter til" in SEED_000_MOVERS
    assert _level_names(cube.dimension("Fra kommune")) == ["Region", from_field]
    assert _level_names(cube.dimension("Til kommune")) == ["Region", to_field]
    for name in ("Fra kommune", "Til kommune"):
        dimension = cube.dimension(name)
        assert dimension is not None and dimension.hierarchies[0].levels[-1].caption_column == "navn"  # kommune names
    # the visuals' measure: "akkumuleret tilvækst"
    measure = SEED_000_FROM.split("\n")[2].removeprefix("Random ")
    assert cube.measure(measure.capitalize()) is not None


@pytest.mark.parametrize("kind", list(CUBES))
def test_the_filters_are_the_reports(kind: str) -> None:
    cube = CUBES[kind]
    fields = SEED_000_FILTERS.split("\n\n")[2::2]
    assert fields == ["Køn", "Ja/Nej Ægtefælle"]
    assert _level_names(cube.dimension("Køn")) == ["Køn"]
    spouse = cube.dimension("Ægtefælle")
    assert _level_names(spouse) == ["Ja/Nej Ægtefælle"] and spouse is not None
    assert spouse.hierarchies[0].name == "Ja/Nej Ægtefælle"
    # "civilstand (Ægtefælle Ja/Nej)": the dimension is the spouse flag, described as the guide says
    parenthesis = re.search(r"civilstand \((.+)\)", SEED_000_DIMENSIONS)
    assert parenthesis is not None and spouse.description == f"Civilstand ({parenthesis.group(1)})"
    # "aldersgrupper" / "Vælg aldersgruppe"
    assert SEED_000_FILTERS.startswith("Vælg aldersgruppe")
    assert _level_names(cube.dimension("Aldersgruppe")) == ["Aldersgruppe"]


@pytest.mark.parametrize("kind", list(CUBES))
def test_the_measures_are_the_seeds_words_and_arithmetic(kind: str) -> None:
    cube: Cube = CUBES[kind]
    assert "(indrejste fratrukket udrejste)" in SEED_000_OVERBLIK
    netto = cube.measure("Nettoindvandring")
    assert netto is not None and netto.expression_tree == BinOp("-", Ref("Indrejste"), Ref("Udrejste"))
    assert netto.description == "Indrejste fratrukket udrejste."
    for name in ("Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede"):
        measure = cube.measure(name)
        assert measure is not None and measure.kind is MeasureKind.SUM, name
    assert "ind- og udrejste samt nettotilvækst" in SEED_000_TILVAEKST
    tilvaekst = cube.measure("Nettotilvækst")
    assert tilvaekst is not None and tilvaekst.expression == "[Indrejste] - [Udrejste] + [Tilflyttede] - [Fraflyttede]"
    assert "akkumulerede vækst" in SEED_000_AKKUMULERET and "over tid" in SEED_000_AKKUMULERET
    akkumuleret = cube.measure("Akkumuleret tilvækst")
    assert akkumuleret is not None
    assert (akkumuleret.kind, akkumuleret.of, akkumuleret.along) == (MeasureKind.RUNNING_TOTAL, "Nettotilvækst", "Tid")
    # KL: the number of persons is arrivals minus departures: nationally the moves cancel out
    assert "indrejste fratrukket antallet af udrejste" in SEED_001_PERSONS
    assert akkumuleret.description.startswith("Nettotilvækst lagt sammen fra 2022-01-01")


@pytest.mark.parametrize("kind", list(CUBES))
def test_time_goes_down_to_the_day_and_begins_on_1_january_2022(kind: str) -> None:
    tid = CUBES[kind].dimension("Tid")
    assert "dag for dag" in SEED_001_DAY_BY_DAY and "fordelt på måneder" in SEED_000_TILVAEKST
    assert tid is not None and tid.is_time and _level_names(tid) == ["År", "Kvartal", "Måned", "Dag"]
    assert "siden 1. januar 2022" in SEED_001_START
    assert FIRST_DAY.isoformat() == "2022-01-01"
    assert "siden 1. januar 2022" in AREA.description
    # the report page's "efter februar 2022" is documented as a filter, not a cut in the data
    assert "efter februar 2022" in SEED_000_OVERBLIK and '"efter februar 2022" er et tidsfilter' in AREA.description


def test_the_breakdowns_kl_names_are_dimensions_of_both_cubes() -> None:
    # "aldersgrupperinger, køn og civilstand"
    assert "aldersgrupperinger, køn og civilstand" in SEED_001_DAY_BY_DAY
    for cube in CUBES.values():
        assert {"Aldersgruppe", "Køn", "Ægtefælle"} <= {d.name for d in cube.dimensions}
