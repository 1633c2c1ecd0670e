"""Voksenhandicap rules on hand-made persons: the Python functions and the loader's SQL agree."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from gateway.data import voksenhandicap_rules as rules
from gateway.data.voksenhandicap_rules import Forloeb, Opmaerkning

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
KODER = frozenset(m.kode for m in rules.default_maalgrupper())


def _f(fid: str, ydelse: str = "1.1", *, person: str = "p1", start: date | None = date(2022, 1, 1),
       end: date | None = None, birth: date = ADULT, death: date | None = None, maal: str = "1.1.1") -> Forloeb:
    return Forloeb(fid, person, ydelse, maal, birth, start, end, death)


CASES = [
    ([_f("a", "9.9")], "a", "ugyldig_ydelse"),
    ([_f("a", maal="X9")], "a", "ugyldig_maalgruppe"),
    ([_f("a", maal="F1")], "a", "ugyldig_maalgruppe"),  # our old invented codes are not DST's
    ([_f("a", start=None)], "a", "ingen_startdato"),
    ([_f("a", start=date(2022, 5, 1), end=date(2022, 4, 30))], "a", "slut_foer_start"),
    # 16 on 1 January 2022 (born 2 January 2005): removed; born 1 January 2005 is 17: kept
    ([_f("a", birth=date(2005, 1, 2))], "a", "under_17"),
    ([_f("a", birth=date(2005, 1, 1))], "a", "ukendt"),
    ([_f("a", death=date(2022, 6, 1))], "a", "doed"),
    ([_f("a", end=date(2022, 3, 1), death=date(2022, 6, 1))], "a", "ukendt"),  # closed: nothing to correct
    # the date of death is the person's: a line delivered without it is corrected too
    ([_f("a", end=date(2022, 3, 1), death=date(2022, 6, 1)), _f("b", "1.4")], "b", "doed"),
    ([_f("a", "1.8.1", end=date(2022, 6, 30)), _f("b", "1.8.2", start=date(2022, 6, 30))], "b", "overlap_ophold"),
    ([_f("a", "1.8.1", end=date(2022, 6, 29)), _f("b", "1.8.2", start=date(2022, 6, 30))], "b", "ukendt"),
    ([_f("a", "1.8.1"), _f("b", "1.8.2", person="p2")], "b", "ukendt"),  # different persons never overlap
    ([_f("a", "1.12.0.2"), _f("b", "1.12.0.1", start=date(2022, 8, 1))], "a", "sps_og_ophold"),
    ([_f("a", "1.12.0.2"), _f("b", "1.8.2", start=date(2022, 8, 1))], "a", "ukendt"),  # 1.8.2 is not in that rule
    # a removed row never makes another row overlap
    ([_f("a", "1.8.1", maal="X9"), _f("b", "1.8.2")], "b", "ukendt"),
    # a stay that ended with its resident's death overlaps nothing after it
    ([_f("a", "1.8.1", death=date(2022, 3, 1)), _f("b", "1.8.2", start=date(2022, 3, 2), end=date(2022, 4, 1))],
     "b", "ukendt"),
    # several rules: the first in priority order wins
    ([_f("a", "9.9", start=None)], "a", "ugyldig_ydelse"),
]

SPS = "1.12.0.2"
# (what, the person's forløb, the 1.12.0.2 line's date without overlap, the benchmark's period of it)
OVERLAP_CASES = [
    ("partial: a stay begins while the støtte runs",
     [_f("s", SPS), _f("b", "1.8.1", start=date(2022, 8, 1))], date(2022, 7, 31), (date(2022, 1, 1), date(2022, 7, 31))),
    ("full containment: the støtte lies inside a stay",
     [_f("s", SPS, start=date(2022, 3, 1), end=date(2022, 3, 31)), _f("b", "1.12.0.1", end=date(2022, 12, 1))],
     date(2021, 12, 31), None),
    ("several stays: the first one ends the støtte",
     [_f("s", SPS, end=date(2022, 12, 31)), _f("b", "1.12.0.1", start=date(2022, 6, 1), end=date(2022, 6, 30)),
      _f("c", "1.8.1", start=date(2022, 3, 1), end=date(2022, 3, 31))], date(2022, 2, 28),
     (date(2022, 1, 1), date(2022, 2, 28))),
    ("no overlap: the stay ends the day before",
     [_f("s", SPS, start=date(2022, 4, 1)), _f("b", "1.8.1", end=date(2022, 3, 31))], None,
     (date(2022, 4, 1), AS_OF)),
    ("a deceased person's støtte ends on the date of death, before the stay",
     [_f("s", SPS, death=date(2022, 5, 10)), _f("b", "1.8.1", start=date(2022, 5, 1))], date(2022, 4, 30),
     (date(2022, 1, 1), date(2022, 4, 30))),
    ("the date of death comes first",
     [_f("s", SPS, death=date(2022, 5, 10)), _f("b", "1.8.1", start=date(2022, 5, 20), end=date(2022, 6, 1))], None,
     (date(2022, 1, 1), date(2022, 5, 10))),
]


def _sql_marks(rows: list[Forloeb]) -> dict[str, Opmaerkning]:
    con = duckdb.connect()
    con.execute("""CREATE TABLE f (forloeb_id VARCHAR, person VARCHAR, ydelse_kode VARCHAR, maalgruppe_kode VARCHAR,
                   foedselsdato DATE, startdato DATE, slutdato DATE, doedsdato DATE)""")
    con.executemany("INSERT INTO f VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r.forloeb_id, r.person, r.ydelse_kode, r.maalgruppe_kode, r.foedselsdato, r.startdato, r.slutdato,
                      r.doedsdato) for r in rows])
    found = con.execute(
        f"""SELECT forloeb_id, regel, doed_slutdato, overlap_linje, overlap_borger, sps_linje, sps_borger, dato_uden_overlap
            FROM ({rules.harmonisation_sql('f')})""",
        rules.harmonisation_params(AS_OF, rules.default_maalgrupper()),
    ).fetchall()
    return {fid: Opmaerkning(*rest) for fid, *rest in found}


@pytest.mark.parametrize(("rows", "which", "expected"), CASES)
def test_harmonisation_flag_is_set_by_python_and_sql_alike(rows: list[Forloeb], which: str, expected: str) -> None:
    python = rules.harmonise(rows, AS_OF, KODER)
    assert python[which].regel == expected
    assert _sql_marks(rows) == python


@pytest.mark.parametrize(("what", "rows", "date_without_overlap", "period"), OVERLAP_CASES, ids=[c[0] for c in OVERLAP_CASES])
def test_the_date_without_overlap_ends_the_stoette_in_the_benchmark(
    what: str, rows: list[Forloeb], date_without_overlap: date | None, period: tuple[date, date] | None
) -> None:
    marks = rules.harmonise(rows, AS_OF, KODER)
    assert marks["s"].dato_uden_overlap == date_without_overlap
    assert marks["s"].sps_linje == marks["s"].sps_borger == (date_without_overlap is not None)
    assert _sql_marks(rows) == marks
    line = next(r for r in rows if r.forloeb_id == "s")
    assert rules.benchmark_period(line, marks["s"], AS_OF) == period
    if period is not None:  # what the benchmark counts of the støtte never lies in a 1.12.0.1/1.8.1 stay
        for stay in (r for r in rows if r.ydelse_kode in rules.SPS_CONFLICTS):
            stay_period = rules.benchmark_period(stay, marks[stay.forloeb_id], AS_OF)
            assert stay_period is None or period[1] < stay_period[0] or stay_period[1] < period[0]


def test_overlapping_stays_mark_the_person_on_every_line_and_the_line_itself() -> None:
    rows = [_f("a", "1.8.2", end=date(2022, 3, 31)), _f("b", "1.12.0.1", start=date(2022, 3, 1)), _f("c", "1.1"),
            _f("d", "1.8.1", person="p2")]
    marks = rules.harmonise(rows, AS_OF, KODER)
    assert [(marks[f].overlap_linje, marks[f].overlap_borger) for f in "abcd"] == [
        (True, True), (True, True), (False, True), (False, False)]
    assert _sql_marks(rows) == marks
    marked = duckdb.connect().execute(
        f"SELECT {rules.mark_sql('l', 'b')} FROM (VALUES (true, true), (false, true), (false, false)) v(l, b)").fetchall()
    assert [m[0] for m in marked] == [m[0] for m in rules.MARKS] == ["JJ", "JN", "NN"]


def test_a_dead_persons_overlapping_line_is_both_ended_and_marked() -> None:
    """The first rule names the line in Harmonisering VH; the correction and the mark still apply."""
    rows = [_f("s", SPS, death=date(2022, 9, 1)), _f("b", "1.8.1", start=date(2022, 6, 1))]
    marks = rules.harmonise(rows, AS_OF, KODER)
    assert marks["s"].regel == "doed" and marks["s"].sps_linje and marks["s"].dato_uden_overlap == date(2022, 5, 31)
    assert marks["s"].doed_slutdato == date(2022, 9, 1) == marks["b"].doed_slutdato


def test_the_maalgruppe_list_is_dsts_and_a_broken_replacement_is_refused_with_its_line(tmp_path: Path) -> None:
    shipped = rules.default_maalgrupper()
    assert shipped[0] == rules.Maalgruppe("1.1.1", "Mobilitets-nedsættelse", "Fysisk handicap")
    assert {m.hovedgruppe for m in shipped} <= set(rules.HOVEDGRUPPER)
    header = (rules.DEFAULT_SCHEMA_DIR / rules.MAALGRUPPE_FILE).read_text(encoding="utf-8")
    assert "https://www.dst.dk/da/Statistik/dokumentation/Times/handicap/maalgruppe" in header
    bad = tmp_path / "m.csv"
    for text, problem in [
        ("code,text\n", "the header must be kode,tekst,hovedgruppe"),
        ("kode,tekst,hovedgruppe\n1.1.1,A,Fysisk handicap\n1.1.1,B,Fysisk handicap\n", "line 3: the code '1.1.1' is listed twice"),
        ("# c\nkode,tekst,hovedgruppe\n1.1.1,A\n", "line 3: expected three non-empty values"),
        ("kode,tekst,hovedgruppe\n", "the list holds no codes"),
    ]:
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(rules.MaalgruppeListError, match=problem):
            rules.load_maalgrupper(bad)
    with pytest.raises(rules.MaalgruppeListError, match="cannot read"):
        rules.load_maalgrupper(tmp_path / "missing.csv")


@pytest.mark.parametrize(("as_of", "reference"), [
    (date(2024, 6, 30), date(2024, 6, 30)), (date(2024, 7, 15), date(2024, 6, 30)), (date(2024, 7, 1), date(2024, 6, 30)),
    (date(2024, 3, 1), date(2024, 2, 29)), (date(2024, 1, 31), date(2024, 1, 31)), (date(2024, 1, 5), date(2023, 12, 31)),
])
def test_paragraph_107_counts_to_the_last_day_of_the_latest_complete_month(as_of: date, reference: date) -> None:
    assert rules.p107_reference(as_of) == reference


REFERENCE = date(2024, 6, 30)


@pytest.mark.parametrize(("days", "bucket"), [
    (1, "0-100"), (99, "0-100"), (100, "0-100"), (101, "101-200"), (200, "101-200"), (201, "201-300"), (300, "201-300"),
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
