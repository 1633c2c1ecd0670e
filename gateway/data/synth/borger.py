"""Synthetic Borger data: yearly population and movements per kommune, age band and citizenship.

Moves between kommuner are drawn one by one (origin by population, destination by population),
then counted at both ends, so Tilflyttede summed over all kommuner equals Fraflyttede.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from gateway.data.synth.common import GenerateOptions, ext, uniform, write, write_kommune_dim, write_manifest

FIRST_YEAR = 2018
AGES = (("0-16", "0-16 år", 0.19, 0.035, 0.0002), ("17-66", "17-66 år", 0.62, 0.06, 0.002),
        ("67+", "67 år og derover", 0.19, 0.02, 0.04))  # key, text, share, move rate, death rate
CITIZENSHIP = (("Dansk", "Dansk", 0.88, 0.002, 0.0025), ("Vestlig", "Vestlig", 0.04, 0.08, 0.07),
               ("Ikke-vestlig", "Ikke-vestlig", 0.08, 0.06, 0.03))  # key, text, share, immigration, emigration


def _values(rows: list[str], columns: str) -> str:
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) v({columns}))"


def _tables(con: duckdb.DuckDBPyConnection, o: GenerateOptions) -> None:
    s, last_year = o.seed, o.as_of.year - 1
    ages = _values([f"('{k}', {i}, {sh}, {mv}, {dd})" for i, (k, _t, sh, mv, dd) in enumerate(AGES)], "age, ai, share, move_rate, death_rate")
    cits = _values([f"('{k}', {i}, {sh}, {im}, {em})" for i, (k, _t, sh, im, em) in enumerate(CITIZENSHIP)], "cit, ci, share, imm, emi")
    con.execute(
        f"""CREATE TABLE groups AS
        SELECT y.range::VARCHAR AS aar, y.range AS year, k.kode, k.idx, a.age, a.ai, c.cit, c.ci, a.move_rate, a.death_rate, c.imm, c.emi,
          round(k.indbyggere * a.share * c.share * (1 + 0.004 * (y.range - {FIRST_YEAR}))
                * (0.97 + 0.06 * {uniform(s, 20, 'k.idx', 'a.ai', 'c.ci')}) * (0.99 + 0.02 * {uniform(s, 21, 'k.idx', 'y.range', 'a.ai', 'c.ci')}))::INTEGER AS folketal
        FROM kommuner k, range({FIRST_YEAR}, {last_year + 1}) y, {ages} a, {cits} c"""
    )
    con.execute(
        f"""CREATE TABLE moves AS
        SELECT g.year, g.kode AS fra, g.age, g.cit, (hash({s}, 22, g.idx, g.year, g.ai, g.ci, j.j) % 10000)::INTEGER AS slot, g.idx
        FROM groups g, LATERAL (SELECT unnest(range(round(g.folketal * g.move_rate)::INTEGER)) AS j) j"""
    )
    con.execute(
        """CREATE TABLE move_counts AS
        WITH m AS (
          SELECT m.year, m.fra, m.age, m.cit,
            CASE WHEN s.kode <> m.fra THEN s.kode ELSE (SELECT k.kode FROM kommuner k WHERE k.idx = (m.idx + 1) % 98) END AS til
          FROM moves m JOIN slots s ON s.slot = m.slot)
        SELECT year, kode, age, cit, sum(ud)::INTEGER AS fraflyttede, sum(ind)::INTEGER AS tilflyttede FROM (
          SELECT year, fra AS kode, age, cit, 1 AS ud, 0 AS ind FROM m
          UNION ALL SELECT year, til, age, cit, 0, 1 FROM m) GROUP BY ALL"""
    )
    con.execute("DROP TABLE moves")
    con.execute(
        f"""CREATE TABLE befolkning_all AS
        SELECT g.aar, g.kode AS kommune, g.idx, g.ai, g.ci, g.age AS aldersgruppe, g.cit AS statsborgerskab,
          CASE WHEN g.age = '0-16' THEN round(g.folketal * 0.055 * (0.9 + 0.2 * {uniform(s, 23, 'g.idx', 'g.year', 'g.ci')})) ELSE 0 END::INTEGER AS foedte,
          round(g.folketal * g.death_rate * (0.8 + 0.4 * {uniform(s, 24, 'g.idx', 'g.year', 'g.ai', 'g.ci')}))::INTEGER AS doede,
          coalesce(mc.tilflyttede, 0) AS tilflyttede, coalesce(mc.fraflyttede, 0) AS fraflyttede,
          round(g.folketal * g.imm * (0.7 + 0.6 * {uniform(s, 25, 'g.idx', 'g.year', 'g.ai', 'g.ci')}))::INTEGER AS indvandrede,
          round(g.folketal * g.emi * (0.7 + 0.6 * {uniform(s, 26, 'g.idx', 'g.year', 'g.ai', 'g.ci')}))::INTEGER AS udvandrede,
          g.folketal
        FROM groups g LEFT JOIN move_counts mc ON mc.year = g.year AND mc.kode = g.kode AND mc.age = g.age AND mc.cit = g.cit
        ORDER BY g.idx, g.aar, g.ai, g.ci"""
    )
    con.execute("DROP TABLE groups")
    con.execute("DROP TABLE move_counts")


_MEASURES = "foedte, doede, tilflyttede, fraflyttede, indvandrede, udvandrede, folketal"


def _dims(con: duckdb.DuckDBPyConnection, d: Path, fmt: str) -> None:
    e = ext(fmt)
    ages = ", ".join(f"('{k}', '{t}', {i + 1})" for i, (k, t, *_r) in enumerate(AGES))
    cits = ", ".join(f"('{k}', '{t}', {i + 1})" for i, (k, t, *_r) in enumerate(CITIZENSHIP))
    write(con, f"SELECT * FROM (VALUES {ages}) v(aldersgruppe, aldersgruppe_tekst, sortering)", d / f"dim_aldersgruppe.{e}", fmt)
    write(con, f"SELECT * FROM (VALUES {cits}) v(statsborgerskab, statsborgerskab_tekst, sortering)",
          d / f"dim_statsborgerskab.{e}", fmt)


def generate(con: duckdb.DuckDBPyConnection, out: Path, o: GenerateOptions, tick: Callable[[], None]) -> list[Path]:
    """Write ``out/borger/<kode>/`` for the wanted kommuner and ``out/borger/benchmark/``."""
    _tables(con, o)
    e, dirs = ext(o.fmt), []
    for (kode,) in con.execute("SELECT kode FROM kommuner ORDER BY idx").fetchall():
        if not o.wants(kode):
            continue
        d = out / "borger" / kode
        write(con, f"SELECT aar, aldersgruppe, statsborgerskab, {_MEASURES} FROM befolkning_all WHERE kommune = $k ORDER BY aar, ai, ci",
              d / f"befolkning.{e}", o.fmt, {"k": kode})
        _dims(con, d, o.fmt)
        write_manifest(d, o, "borger", kode)
        dirs.append(d)
        tick()
    d = out / "borger" / "benchmark"
    write(con, f"SELECT aar, kommune, aldersgruppe, statsborgerskab, {_MEASURES} FROM befolkning_all ORDER BY aar, idx, ai, ci",
          d / f"befolkning.{e}", o.fmt)
    _dims(con, d, o.fmt)
    write_kommune_dim(con, d / f"dim_kommune.{e}", o.fmt)
    write_manifest(d, o, "borger", None)
    dirs.append(d)
    tick()
    con.execute("DROP TABLE befolkning_all")
    return dirs
