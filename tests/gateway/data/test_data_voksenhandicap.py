"""Voksenhandicap loads: month rows with inclusive days, the special rule, benchmark corrections
(per person: date of death, overlapping stays, the date without overlap), the kontoplan bridge and
the målgruppe list a deployment replaces."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from data_sources import write_csv

from gateway.data.loader import LoadRequest, load_database
from gateway.engine.execute import Limits, run_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.errors import LoadError
from gateway.model import load_area
from gateway.model.view import exact_view
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

SCHEMA = Path(__file__).resolve().parents[3] / "schema" / "voksenhandicap.yaml"

COLUMNS = ("forloeb_id", "personnummer", "foedselsdato", "doedsdato", "ydelse_kode", "maalgruppe_kode",
           "funktionsvurdering", "opholdssted", "handlekommune", "betalingskommune", "startdato", "slutdato")
AS_OF = date(2022, 3, 31)
ROWS = [
    # the seed's worked example: A from 15 March, B all quarter, both to 31 March
    ("a", "0101700001", "1970-01-01", "", "1.1", "1.1.1", "A", "", "183", "", "2022-03-15", ""),
    ("b", "0101700002", "1970-01-01", "", "1.1", "1.1.1", "B", "", "183", "183", "2021-06-01", ""),
    # delivered by Ishøj, paid by Vallensbæk: Vallensbæk's data
    ("c", "0101700003", "1970-01-01", "", "1.4", "1.2.1.4", "C", "", "183", "187", "2022-01-01", "2022-01-31"),
    # removed in the benchmark (invalid code); still visible, with 0 days, in the kommune cube
    ("d", "0101700004", "1970-01-01", "", "9.9", "1.2.1.4", "C", "", "183", "", "2022-02-01", ""),
    # no start date: no period to count, so 0 days, shown in the month of data-as-of
    ("f", "0101700006", "1970-01-01", "", "1.1", "1.1.2", "D", "", "183", "", "", ""),
    # deceased on 10 February with the service still open: the benchmark ends it then; the
    # person's other open line carries no date of death, and ends then too (per person)
    ("e", "0101700005", "1950-01-01", "2022-02-10", "1.17", "1.2.2.1", "", "", "183", "", "2022-01-01", ""),
    ("e2", "0101700005", "1950-01-01", "", "1.1", "1.2.2.1", "", "", "183", "", "2022-01-15", ""),
    # socialpædagogisk støtte i eget hjem, then a længerevarende botilbud from 1 March: the
    # benchmark ends the støtte on 28 February (its date without overlap)
    ("g", "0101700007", "1970-01-01", "", "1.12.0.2", "1.2.2", "B", "", "183", "", "2022-01-01", ""),
    ("h", "0101700007", "1970-01-01", "", "1.8.1", "1.2.2", "B", "183-00", "183", "", "2022-03-01", ""),
    # overlapping stays (1.8.2 then 1.12.0.1 two weeks early) and a 1.1 line of the same person
    ("i", "0101700008", "1970-01-01", "", "1.8.2", "1.2.1", "C", "183-00", "183", "", "2022-01-01", "2022-02-15"),
    ("j", "0101700008", "1970-01-01", "", "1.12.0.1", "1.2.1", "C", "183-00", "183", "", "2022-02-01", ""),
    ("k", "0101700008", "1970-01-01", "", "1.1", "1.2.1", "C", "", "183", "", "2022-01-01", ""),
    # an open §107 stay: 101 days to 31 March, both days counted
    ("l", "0101700009", "1970-01-01", "", "1.8.2", "1.1.5", "A", "183-00", "183", "", "2021-12-21", ""),
]


def _source(directory: Path) -> Path:
    write_csv(directory / "forloeb.csv", COLUMNS, ROWS)
    write_csv(directory / "opholdssteder.csv", ("opholdssted", "navn", "kommune"), [("183-00", "Bosted", "183")])
    write_csv(directory / "godkendte.csv", ("kommune", "ydelse_kode", "kvartal"), [("183", "1.1", "2022-K1")])
    write_csv(directory / "dim_kommune.csv", ("kode", "navn", "region"),
              [("183", "Ishøj", "Hovedstaden"), ("187", "Vallensbæk", "Hovedstaden")])
    return directory


@pytest.fixture
def loaded(settings: Settings, registry: DatabaseRegistry, tmp_path: Path) -> DatabaseRegistry:
    source = _source(tmp_path / "vh")
    for kommune in ("183", "187", None):
        load_database(LoadRequest("voksenhandicap", kommune, source, as_of=AS_OF), schema_dir=settings.schema_dir,
                      registry=registry)
    return registry


HELAAR = """SELECT sum(f.dage)::DOUBLE / (SELECT sum(dage) FROM dim_tid WHERE kvartal = '2022-K1')
            FROM forloeb_maaned f JOIN dim_tid t ON t.maaned = f.maaned WHERE t.kvartal = '2022-K1' AND f.forloeb_id IN ('a', 'b')"""


def test_helaarsmodtagere_counts_both_the_first_and_the_last_day(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede-183") as connection:
        assert connection.execute(sa.text(HELAAR)).scalar_one() == pytest.approx(17 / 90 + 90 / 90)
        godkendt = dict(connection.execute(sa.text("SELECT forloeb_id, min(godkendt) FROM forloeb_maaned GROUP BY 1")).all())
        assert godkendt["a"] == "Ja" and godkendt["e"] == "Nej"


def test_kommune_cube_keeps_flagged_rows_and_hands_partner_data_over(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede-183") as connection:
        rows = {r.forloeb_id: r for r in connection.execute(sa.text(
            "SELECT forloeb_id, regel, sum(dage) AS dage, min(maaned) AS maaned FROM forloeb_maaned GROUP BY 1, 2"))}
        assert set(rows) == {"a", "b", "d", "e", "e2", "f", "g", "h", "i", "j", "k", "l"}
        assert (rows["d"].regel, rows["d"].dage) == ("ugyldig_ydelse", 28 + 31)  # as reported, flagged
        assert (rows["f"].regel, rows["f"].dage, rows["f"].maaned) == ("ingen_startdato", 0, "2022-03")
        assert (rows["e"].regel, rows["e"].dage) == ("doed", 31 + 28 + 31)  # reported as open: counts to as-of
        assert (rows["e2"].regel, rows["e2"].dage) == ("doed", 17 + 28 + 31)  # the person's death, not the line's
        assert (rows["g"].regel, rows["g"].dage) == ("sps_og_ophold", 31 + 28 + 31)  # flagged, not corrected
        personnumre = connection.execute(sa.text("SELECT count(*) FROM dim_borger")).scalar_one()
        assert personnumre == 8
    with loaded.connect("FLIS Voksne Handicappede-187") as connection:
        row = connection.execute(sa.text(
            "SELECT forloeb_id, handlekommune, betalingskommune, sum(dage) FROM forloeb_maaned GROUP BY ALL")).one()
        assert tuple(row) == ("c", "187", "187", 31)


def test_benchmark_removes_and_corrects_and_has_no_personnummer(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede Benchmark") as connection:
        columns = set(connection.execute(sa.text("SELECT * FROM forloeb_maaned LIMIT 0")).keys())
        assert "personnummer" not in columns and "forloeb_id" not in columns
        assert "9.9" not in connection.execute(sa.text("SELECT DISTINCT ydelse_kode FROM forloeb_maaned")).scalars().all()
        dead = connection.execute(sa.text("SELECT sum(dage) FROM forloeb_maaned WHERE regel = 'doed'")).scalar_one()
        assert dead == 31 + 10 + 17 + 10  # e and e2 end on the person's date of death
        persons = connection.execute(sa.text("SELECT count(DISTINCT person_noegle) FROM forloeb_maaned")).scalar_one()
        assert persons == 7  # not d (invalid ydelse) nor f (no start date)


def test_benchmark_pseudonyms_stay_the_same_across_loads_and_reveal_no_personnummer(
    loaded: DatabaseRegistry, settings: Settings, tmp_path: Path
) -> None:
    """Disclosure control keys a person by their pseudonym: a new load must not give them a new
    one, or the same cell would get a fresh noise draw with every load (docs/disclosure-control.md)."""
    name = "FLIS Voksne Handicappede Benchmark"
    query = sa.text("SELECT DISTINCT person_noegle FROM forloeb_maaned ORDER BY 1")
    with loaded.connect(name) as connection:
        before = connection.execute(query).scalars().all()
    load_database(LoadRequest("voksenhandicap", None, _source(tmp_path / "again"), as_of=AS_OF),
                  schema_dir=settings.schema_dir, registry=loaded)
    with loaded.connect(name) as connection:
        assert connection.execute(query).scalars().all() == before
    personnumre = {row[1] for row in ROWS}
    assert not personnumre & set(before) and all(len(p) == 16 for p in before)
    key = loaded.data_dir / "pseudonym.key"
    assert key.stat().st_mode & 0o077 == 0  # the salt is as secret as the disclosure key


def _marks(connection: sa.Connection, column: str) -> dict[str, str]:
    return dict(connection.execute(sa.text(f"SELECT DISTINCT forloeb_id, {column} FROM forloeb_maaned")).all())


def test_kommune_cube_marks_the_overlap_and_its_date_without_changing_the_days(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede-183") as connection:
        sps = _marks(connection, "sps_ophold")
        assert (sps["g"], sps["h"], sps["a"]) == ("JJ", "JN", "NN")  # the line, the person's other line, others
        dates = _marks(connection, "dato_uden_overlap")
        assert dates["g"] == "2022-02-28" and {dates[f] for f in dates if f != "g"} == {"ingen"}
        stays = _marks(connection, "overlap_ophold")
        assert (stays["i"], stays["j"], stays["k"], stays["a"]) == ("JJ", "JJ", "JN", "NN")
        days = dict(connection.execute(sa.text("SELECT forloeb_id, sum(dage) FROM forloeb_maaned GROUP BY 1")).all())
        assert (days["i"], days["j"]) == (31 + 15, 28 + 31)  # marked only: DST's marks change no kommune data
        members = connection.execute(sa.text("SELECT dato_uden_overlap, aar FROM dim_dato_uden_overlap ORDER BY 1")).all()
        assert [tuple(m) for m in members] == [("2022-02-28", "2022"), ("ingen", "ingen")]


def test_benchmark_ends_the_stoette_on_the_date_without_overlap_so_no_day_counts_twice(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede Benchmark") as connection:
        by_month = dict(connection.execute(sa.text(
            """SELECT maaned, sum(dage) FROM forloeb_maaned WHERE ydelse_kode IN ('1.12.0.2', '1.8.1') GROUP BY 1""")).all())
        assert by_month == {"2022-01": 31, "2022-02": 28, "2022-03": 31}  # one of the two each day, never both
        row = connection.execute(sa.text(
            """SELECT sum(dage), min(dato_uden_overlap), min(sps_ophold) FROM forloeb_maaned
               WHERE ydelse_kode = '1.12.0.2'""")).one()
        assert tuple(row) == (31 + 28, "2022-02-28", "JJ")
        # overlapping stays are marked, not corrected (the seed names no correction for them)
        stays = dict(connection.execute(sa.text(
            "SELECT ydelse_kode, sum(dage) FROM forloeb_maaned WHERE overlap_ophold = 'JJ' GROUP BY 1")).all())
        assert stays == {"1.8.2": 31 + 15, "1.12.0.1": 28 + 31}
        assert connection.execute(sa.text(
            "SELECT DISTINCT ydelse_kode FROM forloeb_maaned WHERE overlap_ophold = 'JN'")).scalars().all() == ["1.1"]


def test_open_paragraph_107_stay_is_bucketed_to_the_last_day_of_the_latest_month(loaded: DatabaseRegistry) -> None:
    for name in ("FLIS Voksne Handicappede-183", "FLIS Voksne Handicappede Benchmark"):
        with loaded.connect(name) as connection:
            buckets = connection.execute(sa.text(
                "SELECT DISTINCT p107 FROM forloeb_maaned WHERE ydelse_kode = '1.8.2' AND dage = 31 AND maaned = '2022-03'"
            )).scalars().all()
            assert buckets == ["101-200"]  # 21 December 2021 to 31 March 2022: 101 days


def test_kontoplan_is_a_hierarchy_of_ydelse_so_its_totals_count_each_forloeb_once(loaded: DatabaseRegistry) -> None:
    (cube,) = load_area(SCHEMA, label="schema/voksenhandicap.yaml").benchmark_cubes
    measures = ("[Measures].[Helårsmodtagere]", "[Measures].[Ydelsesmodtagere]")
    limits = Limits(cell_limit=1000, timeout_seconds=30)
    with loaded.connect("FLIS Voksne Handicappede Benchmark") as connection:
        by_funktion = run_query(connection, (exact_view(cube),), CubeQuery(
            cube.name, measures, rows=(LevelItem("[Ydelse].[Kontoplan].[Funktion]"),), non_empty=True), limits=limits)
        total = run_query(connection, (exact_view(cube),), CubeQuery(cube.name, measures), limits=limits)
        ydelser = connection.execute(sa.text("SELECT count(DISTINCT person_ydelse) FROM forloeb_maaned")).scalar_one()
    rows = {t.members[0].caption: by_funktion.cells[2 * i : 2 * i + 2] for i, t in enumerate(by_funktion.axes[1].tuples)}
    # 1.12.0.2 and 1.17; 1.8.1; 1.12.0.1; 1.8.2; 1.4; 1.1 (5.38.53, 1.13.3/1.13.4, has no forløb here)
    assert set(rows) == {"5.38.39", "5.38.50", "5.38.51", "5.38.52", "5.38.58", "5.38.59"}
    assert total.cells[1].value == ydelser == sum(c[1].value for c in rows.values())
    assert total.cells[0].value == pytest.approx(sum(c[0].value for c in rows.values()))


def test_a_deployment_replaces_the_maalgruppe_list_beside_the_models(
    settings: Settings, registry: DatabaseRegistry, tmp_path: Path
) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(settings.schema_dir, schema)
    (schema / "voksenhandicap_maalgrupper.csv").write_text(
        "# our own list\nkode,tekst,hovedgruppe\n1.1.1,Mobilitets-nedsættelse,Fysisk handicap\n9.1,Hjemløshed,Socialt problem\n",
        encoding="utf-8")
    source = _source(tmp_path / "vh")
    load_database(LoadRequest("voksenhandicap", "183", source, as_of=AS_OF), schema_dir=schema, registry=registry)
    with registry.connect("FLIS Voksne Handicappede-183") as connection:
        rules = dict(connection.execute(sa.text("SELECT DISTINCT forloeb_id, regel FROM forloeb_maaned")).all())
        groups = dict(connection.execute(sa.text("SELECT maalgruppe_kode, hovedgruppe FROM dim_maalgruppe")).all())
    assert rules["a"] == "ukendt" and rules["g"] == "ugyldig_maalgruppe"  # 1.2.2 is not on this list
    assert groups["9.1"] == "Socialt problem" and groups["1.2.2"] == "Ugyldig målgruppekode"
    (schema / "voksenhandicap_maalgrupper.csv").write_text("kode,tekst,hovedgruppe\n1.1.1,X,Andet\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"voksenhandicap_maalgrupper.csv: line 2: hovedgruppe 'Andet' is not one of"):
        load_database(LoadRequest("voksenhandicap", "183", source, as_of=AS_OF), schema_dir=schema, registry=registry)
