"""Synthetic KL Databank key figures in the seed's CSV layout, where Resultat, Tæller and Nævner
agree: Resultat = round(Tæller / Nævner × the figure's scale), as in the seed row
``10121 2022 09-11-2021 340 Sorø 1072 32032889 29891``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from gateway.data.synth.common import GenerateOptions, ext, uniform, write, write_kommune_dim, write_manifest

# id, name, chapter, scale, typical result, denominator per inhabitant
NOEGLETAL: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("10121", "Nettodriftsudgifter til administration pr. indbygger, kr.", "1. Økonomi", 1, 1100, 1.0),
    ("10122", "Serviceudgifter pr. indbygger, kr.", "1. Økonomi", 1, 52000, 1.0),
    ("10131", "Skattegrundlag pr. indbygger, 1.000 kr.", "1. Økonomi", 1000, 210, 1.0),
    ("20211", "Andel 80+ årige i eget hjem, pct.", "2. Ældre", 100, 93, 0.05),
    ("20215", "Udgifter til hjemmepleje pr. 65+ årig, kr.", "2. Ældre", 1, 16000, 0.2),
    ("30310", "Andel elever i specialundervisning, pct.", "3. Skole", 100, 5, 0.12),
    ("30320", "Udgifter pr. folkeskoleelev, kr.", "3. Skole", 1, 78000, 0.12),
    ("50510", "Modtagere af midlertidige botilbud pr. 10.000 18-64 årige", "5. Voksenhandicap", 10000, 25, 0.62),
    ("50520", "Modtagere af længerevarende botilbud pr. 10.000 18-64 årige", "5. Voksenhandicap", 10000, 40, 0.62),
    ("60610", "Andel fuldtidsbeskæftigede, pct.", "6. Beskæftigelse", 100, 74, 0.62),
    ("00010", "Andel SOSU-ansatte på 60+ år, pct.", "0. Rekruttering", 100, 14, 0.012),
    ("11010", "Andel grønne biler i kommunens bilflåde, pct.", "11. Klima og miljø", 100, 30, 0.001),
    ("12010", "Udgifter til kultur og fritid pr. indbygger, kr.", "12. Kultur og fritid", 1, 1900, 1.0),
)


def _tables(con: duckdb.DuckDBPyConnection, o: GenerateOptions) -> None:
    s = o.seed
    figures = ", ".join(f"('{i}', {n}, {sc}, {r}, {d})" for n, (i, *_x, sc, r, d) in enumerate(NOEGLETAL))
    con.execute(
        f"""CREATE TABLE kl AS
        WITH f AS (SELECT * FROM (VALUES {figures}) v(id, n, skala, typisk, pr_indbygger)),
        p AS (SELECT range AS periode, make_date(range::INTEGER - 1, 11, 9) AS udtraek
              FROM range(2019, year($as_of::DATE) + 2) WHERE make_date(range::INTEGER - 1, 11, 9) <= $as_of::DATE),
        v AS (
          SELECT f.id, f.n, f.skala, p.periode, p.udtraek, k.kode, k.navn, k.idx,
            greatest(1, round(k.indbyggere * f.pr_indbygger * (1 + 0.005 * (p.periode - 2019))
                              * (0.95 + 0.1 * {uniform(s, 60, 'f.n', 'k.idx')})))::BIGINT AS naevner,
            f.typisk * (0.8 + 0.4 * {uniform(s, 61, 'f.n', 'k.idx')}) * (0.97 + 0.06 * {uniform(s, 62, 'f.n', 'k.idx', 'p.periode')}) AS ratio
          FROM f, p, kommuner k)
        SELECT id, n, periode, udtraek, kode, navn, idx, naevner,
          round(naevner * ratio / skala)::BIGINT AS taeller, skala
        FROM v""",
        {"as_of": o.as_of},
    )


def generate(con: duckdb.DuckDBPyConnection, out: Path, o: GenerateOptions, tick: Callable[[], None]) -> list[Path]:
    """Write ``out/kl_databank/benchmark/`` with kl_databank.csv (tab-separated, seed layout)."""
    _tables(con, o)
    d = out / "kl_databank" / "benchmark"
    d.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""COPY (SELECT id AS "ID", periode::VARCHAR AS "Periode", strftime(udtraek, '%d-%m-%Y') AS "Udtræksdato",
                   kode AS "Kommunenum", navn AS "Kommunenavn", round(taeller / naevner * skala)::BIGINT AS "Resultat",
                   taeller AS "Tæller", naevner AS "Nævner"
                 FROM kl ORDER BY n, periode, idx)
           TO '{d / "kl_databank.csv"}' (FORMAT csv, HEADER true, DELIMITER '\t', QUOTE '')"""
    )
    rows = ", ".join(f"('{i}', '{n}', '{c}', {sc})" for i, n, c, sc, *_x in NOEGLETAL)
    write(con, f"SELECT * FROM (VALUES {rows}) v(id, navn, kapitel, skala)", d / f"noegletal.{ext(o.fmt)}", o.fmt)
    write_kommune_dim(con, d / f"dim_kommune.{ext(o.fmt)}", o.fmt)
    write_manifest(d, o, "kl_databank", None)
    con.execute("DROP TABLE kl")
    tick()
    return [d]
