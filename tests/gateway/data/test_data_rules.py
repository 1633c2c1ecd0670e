"""Voksenhandicap rules on hand-made rows: the Python functions and the loader's SQL agree."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from gateway.data import voksenhandicap_rules as rules
from gateway.data.voksenhandicap_rules import Forloeb

# The seed's table (section 6.5): delivered (handle, betaling) -> interpreted (handle, betaling).
# '3. kommune' is any other kommune; we use Aarhus (751). None is 'Ikke angivet'.
SEED_TABLE = [
    (("183", "187"), ("187", "187")),
    (("183", "183"), ("183", "183")),
    (("183", None), ("183", "183")),
    (("183", "751"), ("183", "751")),
    (("185", "155"), ("155", "155")),
    (("185", "185"), ("185", "185")),
    (("185", None), ("185", "185")),
    (("185", "751"), ("185", "751")),
]


@pytest.mark.parametrize(("delivered", "interpreted"), SEED_TABLE)
def test_special_rule_matches_every_row_of_the_seed_table(delivered: tuple[str, str | None], interpreted: tuple[str, str]) -> None:
    assert rules.interpret_kommuner(*delivered) == interpreted
    handle, betaling = rules.special_rule_sql("h", "b")
    got = duckdb.connect().execute(f"SELECT {handle}, {betaling} FROM (SELECT $h::VARCHAR AS h, $b::VARCHAR AS b)",
                     {"h": delivered[0], "b": delivered[1]}).fetchone()
    assert got == interpreted


def test_special_rule_leaves_other_kommuner_alone_and_missing_betaling_means_handle() -> None:
    assert rules.interpret_kommuner("187", "183") == ("187", "183")
    assert rules.interpret_kommuner("101", None) == ("101", "101")


AS_OF = date(2022, 12, 31)
ADULT = date(1980, 5, 5)


def _f(fid: str, ydelse: str = "1.1", *, person: str = "p1", start: date | None = date(2022, 1, 1),
       end: date | None = None, birth: date = ADULT, death: date | None = None, maal: str = "F1") -> Forloeb:
    return Forloeb(fid, person, ydelse, maal, birth, start, end, death)


CASES = [
    ([_f("a", "9.9")], "a", "ugyldig_ydelse"),
    ([_f("a", maal="X9")], "a", "ugyldig_maalgruppe"),
    ([_f("a", start=None)], "a", "ingen_startdato"),
    ([_f("a", start=date(2022, 5, 1), end=date(2022, 4, 30))], "a", "slut_foer_start"),
    # 16 on 1 January 2022 (born 2 January 2005): removed; born 1 January 2005 is 17: kept
    ([_f("a", birth=date(2005, 1, 2))], "a", "under_17"),
    ([_f("a", birth=date(2005, 1, 1))], "a", "ukendt"),
    ([_f("a", death=date(2022, 6, 1))], "a", "doed"),
    ([_f("a", end=date(2022, 3, 1), death=date(2022, 6, 1))], "a", "ukendt"),  # closed: nothing to correct
    ([_f("a", "1.8.1", end=date(2022, 6, 30)), _f("b", "1.8.2", start=date(2022, 6, 30))], "b", "overlap_ophold"),
    ([_f("a", "1.8.1", end=date(2022, 6, 29)), _f("b", "1.8.2", start=date(2022, 6, 30))], "b", "ukendt"),
    ([_f("a", "1.8.1"), _f("b", "1.8.2", person="p2")], "b", "ukendt"),  # different persons never overlap
    ([_f("a", "1.12.0.2"), _f("b", "1.12.0.1", start=date(2022, 8, 1))], "a", "sps_og_ophold"),
    ([_f("a", "1.12.0.2"), _f("b", "1.8.2", start=date(2022, 8, 1))], "a", "ukendt"),  # 1.8.2 is not in that rule
    # a removed row never makes another row overlap
    ([_f("a", "1.8.1", maal="X9"), _f("b", "1.8.2")], "b", "ukendt"),
    # several rules: the first in priority order wins
    ([_f("a", "9.9", start=None)], "a", "ugyldig_ydelse"),
]


def _sql_flags(rows: list[Forloeb]) -> dict[str, str]:
    con = duckdb.connect()
    con.execute("""CREATE TABLE f (forloeb_id VARCHAR, person VARCHAR, ydelse_kode VARCHAR, maalgruppe_kode VARCHAR,
                   foedselsdato DATE, startdato DATE, slutdato DATE, doedsdato DATE)""")
    con.executemany("INSERT INTO f VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r.forloeb_id, r.person, r.ydelse_kode, r.maalgruppe_kode, r.foedselsdato, r.startdato, r.slutdato,
                      r.doedsdato) for r in rows])
    return dict(con.execute(f"SELECT forloeb_id, regel FROM ({rules.harmonisation_sql('f')})", {"as_of": AS_OF}).fetchall())


@pytest.mark.parametrize(("rows", "which", "expected"), CASES)
def test_harmonisation_flag_is_set_by_python_and_sql_alike(rows: list[Forloeb], which: str, expected: str) -> None:
    assert rules.harmonisation_flags(rows, AS_OF)[which] == expected
    assert _sql_flags(rows)[which] == expected


REFERENCE = date(2024, 6, 30)


@pytest.mark.parametrize(("days", "bucket"), [
    (1, "0-100"), (100, "0-100"), (101, "101-200"), (200, "101-200"), (201, "201-300"), (300, "201-300"),
    (301, "301-400"), (400, "301-400"), (401, "401-500"), (500, "401-500"), (501, "501-1000"),
    (1000, "501-1000"), (1001, "1001+"), (5000, "1001+"),
])
def test_open_paragraph_107_bucket_boundaries(days: int, bucket: str) -> None:
    start = REFERENCE - timedelta(days=days - 1)  # both the start day and the reference day count
    assert rules.days_open(start, REFERENCE) == days
    assert rules.p107_bucket("1.8.2", start, None, REFERENCE) == bucket
    sql = rules.p107_bucket_sql("y", "s", "e", "r")
    assert duckdb.connect().execute(f"SELECT {sql} FROM (SELECT '1.8.2' y, $s::DATE s, NULL::DATE e, $r::DATE r)",
                      {"s": start, "r": REFERENCE}).fetchone() == (bucket,)


@pytest.mark.parametrize(("ydelse", "end"), [("1.8.1", None), ("1.8.2", REFERENCE), ("1.8.2", date(2024, 1, 1))])
def test_paragraph_107_bucket_is_not_relevant_for_other_or_closed_services(ydelse: str, end: date | None) -> None:
    start = date(2023, 1, 1)
    assert rules.p107_bucket(ydelse, start, end, REFERENCE) == "ikke_relevant"
    sql = rules.p107_bucket_sql("y", "s", "e", "r")
    assert duckdb.connect().execute(f"SELECT {sql} FROM (SELECT $y y, $s::DATE s, $e::DATE e, $r::DATE r)",
                      {"y": ydelse, "s": start, "e": end, "r": REFERENCE}).fetchone() == ("ikke_relevant",)
