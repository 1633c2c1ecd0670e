"""Voksenhandicap loads: month rows with inclusive days, the special rule, benchmark corrections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from data_sources import write_csv

from gateway.data.loader import LoadRequest, load_database
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

COLUMNS = ("forloeb_id", "personnummer", "foedselsdato", "doedsdato", "ydelse_kode", "maalgruppe_kode",
           "funktionsvurdering", "opholdssted", "handlekommune", "betalingskommune", "startdato", "slutdato")
AS_OF = date(2022, 3, 31)
ROWS = [
    # the seed's worked example: A from 15 March, B all quarter, both to 31 March
    ("a", "0101700001", "1970-01-01", "", "1.1", "F1", "A", "", "183", "", "2022-03-15", ""),
    ("b", "0101700002", "1970-01-01", "", "1.1", "F1", "B", "", "183", "183", "2021-06-01", ""),
    # delivered by Ishøj, paid by Vallensbæk: Vallensbæk's data
    ("c", "0101700003", "1970-01-01", "", "1.4", "P1", "C", "", "183", "187", "2022-01-01", "2022-01-31"),
    # removed in the benchmark (invalid code); still visible, with 0 days, in the kommune cube
    ("d", "0101700004", "1970-01-01", "", "9.9", "P1", "C", "", "183", "", "2022-02-01", ""),
    # no start date: no period to count, so 0 days, shown in the month of data-as-of
    ("f", "0101700006", "1970-01-01", "", "1.1", "F2", "D", "", "183", "", "", ""),
    # deceased on 10 February with the service still open: the benchmark ends it then
    ("e", "0101700005", "1950-01-01", "2022-02-10", "1.17", "S1", "", "", "183", "", "2022-01-01", ""),
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
            FROM forloeb_maaned f JOIN dim_tid t ON t.maaned = f.maaned WHERE t.kvartal = '2022-K1' AND f.ydelse_kode = '1.1'"""


def test_helaarsmodtagere_counts_both_the_first_and_the_last_day(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede-183") as connection:
        assert connection.execute(sa.text(HELAAR)).scalar_one() == pytest.approx(17 / 90 + 90 / 90)
        godkendt = dict(connection.execute(sa.text("SELECT forloeb_id, min(godkendt) FROM forloeb_maaned GROUP BY 1")).all())
        assert godkendt["a"] == "Ja" and godkendt["e"] == "Nej"


def test_kommune_cube_keeps_flagged_rows_and_hands_partner_data_over(loaded: DatabaseRegistry) -> None:
    with loaded.connect("FLIS Voksne Handicappede-183") as connection:
        rows = {r.forloeb_id: r for r in connection.execute(sa.text(
            "SELECT forloeb_id, regel, sum(dage) AS dage, min(maaned) AS maaned FROM forloeb_maaned GROUP BY 1, 2"))}
        assert set(rows) == {"a", "b", "d", "e", "f"}
        assert (rows["d"].regel, rows["d"].dage) == ("ugyldig_ydelse", 28 + 31)  # as reported, flagged
        assert (rows["f"].regel, rows["f"].dage, rows["f"].maaned) == ("ingen_startdato", 0, "2022-03")
        assert (rows["e"].regel, rows["e"].dage) == ("doed", 31 + 28 + 31)  # reported as open: counts to as-of
        personnumre = connection.execute(sa.text("SELECT count(*) FROM dim_borger")).scalar_one()
        assert personnumre == 5
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
        assert dead == 31 + 10  # ends on the date of death
        assert connection.execute(sa.text("SELECT count(DISTINCT person_noegle) FROM forloeb_maaned")).scalar_one() == 4  # a, b, c, e


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
