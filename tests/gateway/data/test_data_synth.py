"""Synthetic data: deterministic, moves consistent at both ends, KL figures that add up."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from gateway.data import voksenhandicap_rules as rules
from gateway.data.synth import GenerateOptions, generate

AS_OF = date(2024, 3, 31)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_gives_byte_identical_source_files(tmp_path: Path, fmt: str) -> None:
    options = GenerateOptions(seed=7, as_of=AS_OF, kommuner=("101", "183", "187"), fmt=fmt)
    generate(tmp_path / "a", options)
    generate(tmp_path / "b", options)
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(first) > 20
    assert first == second
    generate(tmp_path / "c", GenerateOptions(seed=8, as_of=AS_OF, kommuner=("101",), fmt=fmt), areas=("ukraine",))
    other = _digests(tmp_path / "c")
    assert other["ukraine/101/haendelser." + ("parquet" if fmt == "parquet" else "csv")] != first[
        "ukraine/101/haendelser." + ("parquet" if fmt == "parquet" else "csv")]


@pytest.fixture(scope="module")
def all_kommuner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, GenerateOptions(seed=3, as_of=AS_OF))
    return out


def test_every_ukraine_move_is_a_fraflytning_in_one_kommune_and_a_tilflytning_in_the_other(all_kommuner: Path) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{all_kommuner}/ukraine/[0-9]*/haendelser.parquet')")
    ind, ud = con.execute("SELECT sum(tilflyttet), sum(fraflyttet) FROM e").fetchone()  # type: ignore[misc]
    assert ind == ud > 0
    moves_out = "SELECT dato, aldersgruppe, koen, aegtefaelle, fra_kommune, til_kommune FROM e WHERE fraflyttet = 1"
    moves_in = "SELECT dato, aldersgruppe, koen, aegtefaelle, fra_kommune, til_kommune FROM e WHERE tilflyttet = 1"
    assert con.execute(f"SELECT count(*) FROM ({moves_out} EXCEPT ALL {moves_in})").fetchone() == (0,)
    assert con.execute(f"SELECT count(*) FROM ({moves_in} EXCEPT ALL {moves_out})").fetchone() == (0,)
    # and each row sits in the database of the kommune it belongs to
    wrong = con.execute(
        f"""SELECT count(*) FROM read_parquet('{all_kommuner}/ukraine/[0-9]*/haendelser.parquet', filename = true)
            WHERE (fraflyttet = 1 AND NOT filename LIKE '%/' || fra_kommune || '/%')
               OR (tilflyttet = 1 AND NOT filename LIKE '%/' || til_kommune || '/%')"""
    ).fetchone()
    assert wrong == (0,)


def test_the_ukraine_benchmark_is_every_kommune_file_with_its_kommune(all_kommuner: Path) -> None:
    con = duckdb.connect()
    kommuner = f"""SELECT regexp_extract(filename, '/ukraine/([0-9]{{3}})/', 1) AS kommune, * EXCLUDE (filename)
                   FROM read_parquet('{all_kommuner}/ukraine/[0-9]*/haendelser.parquet', filename = true)"""
    benchmark = f"SELECT kommune, * EXCLUDE (kommune) FROM read_parquet('{all_kommuner}/ukraine/benchmark/haendelser.parquet')"
    assert con.execute(f"SELECT count(*) FROM ({kommuner})").fetchone() == con.execute(f"SELECT count(*) FROM ({benchmark})").fetchone()
    assert con.execute(f"SELECT count(*) FROM ({kommuner} EXCEPT ALL {benchmark})").fetchone() == (0,)
    assert con.execute(f"SELECT count(*) FROM ({benchmark} EXCEPT ALL {kommuner})").fetchone() == (0,)
    assert con.execute(f"SELECT count(DISTINCT kommune) FROM ({benchmark})").fetchone() == (98,)


def test_ukraine_arrivals_peak_in_spring_2022(all_kommuner: Path) -> None:
    by_month = dict(duckdb.connect().execute(
        f"""SELECT strftime(dato, '%Y-%m'), sum(indrejst) FROM read_parquet('{all_kommuner}/ukraine/[0-9]*/haendelser.parquet')
            GROUP BY 1"""
    ).fetchall())
    assert max(by_month, key=lambda m: by_month[m]) in {"2022-03", "2022-04", "2022-05"}
    assert min(by_month) == "2022-01" and max(by_month) <= "2024-03"


def test_borger_tilflyttede_over_all_kommuner_equals_fraflyttede(all_kommuner: Path) -> None:
    con = duckdb.connect()
    per_kommune = con.execute(
        f"SELECT sum(tilflyttede), sum(fraflyttede) FROM read_parquet('{all_kommuner}/borger/[0-9]*/befolkning.parquet')"
    ).fetchone()
    benchmark = con.execute(
        f"SELECT sum(tilflyttede), sum(fraflyttede) FROM read_parquet('{all_kommuner}/borger/benchmark/befolkning.parquet')"
    ).fetchone()
    assert per_kommune is not None and per_kommune[0] == per_kommune[1] > 0
    assert benchmark == per_kommune
    unbalanced = con.execute(
        f"SELECT aar, maaned FROM read_parquet('{all_kommuner}/borger/benchmark/befolkning.parquet') "
        "GROUP BY aar, maaned HAVING sum(tilflyttede) <> sum(fraflyttede)"
    ).fetchall()
    assert unbalanced == []  # every month, not only in total


def test_borger_months_run_from_january_2018_to_the_last_whole_month(all_kommuner: Path) -> None:
    months = duckdb.connect().execute(
        f"SELECT DISTINCT aar, maaned FROM read_parquet('{all_kommuner}/borger/benchmark/befolkning.parquet') ORDER BY ALL"
    ).fetchall()
    assert months[0] == (2018, 1) and months[-1] == (AS_OF.year, AS_OF.month)  # 31 March is the last day of March
    assert len(months) == (AS_OF.year - 2018) * 12 + AS_OF.month


def test_kl_databank_resultat_is_taeller_over_naevner_times_scale(all_kommuner: Path) -> None:
    d = all_kommuner / "kl_databank" / "benchmark"
    header = (d / "kl_databank.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == ["ID", "Periode", "Udtræksdato", "Kommunenum", "Kommunenavn", "Resultat", "Tæller", "Nævner"]
    con = duckdb.connect()
    rows, disagreeing = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE round(k."Tæller" / k."Nævner" * n.skala) <> k."Resultat")
            FROM read_csv('{d}/kl_databank.csv', delim = '\t', header = true) k
            JOIN read_parquet('{d}/noegletal.parquet') n ON n.id = lpad(k."ID"::VARCHAR, 5, '0')"""
    ).fetchone()  # type: ignore[misc]
    assert rows > 98 and disagreeing == 0


def test_voksenhandicap_deliveries_trip_every_rule_and_the_special_rule(all_kommuner: Path) -> None:
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE f AS SELECT *, personnummer AS person
                    FROM read_parquet('{all_kommuner}/voksenhandicap/benchmark/forloeb.parquet')""")
    flagged = {r[0] for r in con.execute(f"SELECT DISTINCT regel FROM ({rules.harmonisation_sql('f')})",
                                           rules.harmonisation_params(AS_OF, rules.default_maalgrupper())).fetchall()}
    assert flagged == {r.key for r in rules.REGLER}
    codes = {r[0] for r in con.execute("SELECT DISTINCT maalgruppe_kode FROM f").fetchall()}
    assert codes - {m.kode for m in rules.default_maalgrupper()} == {"X9"}  # DST's codes, and one invalid
    pairs = set(con.execute("SELECT DISTINCT handlekommune, coalesce(betalingskommune, '-') FROM f").fetchall())
    assert {("183", "187"), ("183", "183"), ("183", "-"), ("185", "155"), ("185", "185"), ("185", "-")} <= pairs
    # Vallensbæk's source holds what Ishøj delivers for it
    vallensbaek = con.execute(
        f"""SELECT DISTINCT handlekommune FROM read_parquet('{all_kommuner}/voksenhandicap/187/forloeb.parquet')"""
    ).fetchall()
    assert sorted(vallensbaek) == [("183",), ("187",)]


def test_scale_multiplies_ukraine_volumes(tmp_path: Path) -> None:
    def rows(scale: float) -> int:
        out = tmp_path / f"s{scale}"
        generate(out, GenerateOptions(seed=1, as_of=AS_OF, scale=scale, kommuner=("825",)), areas=("ukraine",))
        found = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}/ukraine/825/haendelser.parquet')").fetchone()
        return int(found[0]) if found else 0

    small, large = rows(1.0), rows(20.0)
    assert small > 0
    assert 15 * small < large < 25 * small
