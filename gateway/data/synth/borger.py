"""Synthetic Borger data: monthly population and movements per kommune, age band and citizenship.

Months run from January 2018 to the last whole month up to data-as-of. ``folketal`` is the
month's mean population (growing slowly, with small monthly wobbles); events are the month's
expected number (yearly rates × the month's share of the year) rounded up or down at random, so
small groups are not rounded to zero every month. Moves between kommuner are drawn one by one
(origin by population, destination by population), then counted at both ends, so Tilflyttede
summed over all kommuner equals Fraflyttede in every month.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from gateway.data.transform.common import last_complete_month_end
from gateway.data.synth.common import GenerateOptions, ext, uniform, write, write_kommune_dim, write_manifest

FIRST_MONTH = date(2018, 1, 1)
# key, text (the seed's "0-16 årige 17-66 årige 67+ årige"), share, yearly move rate, yearly death rate
AGES = (("0-16", "0-16 årige", 0.19, 0.035, 0.0002), ("17-66", "17-66 årige", 0.62, 0.06, 0.002),
        ("67+", "67+ årige", 0.19, 0.02, 0.04))
CITIZENSHIP = (("Dansk", "Dansk", 0.88, 0.002, 0.0025), ("Vestlig", "Vestlig", 0.04, 0.08, 0.07),
               ("Ikke-vestlig", "Ikke-vestlig", 0.08, 0.06, 0.03))  # key, text, share, immigration, emigration


def last_month(as_of: date) -> date:
    """The first day of the last whole month up to ``as_of`` (as-of's own month when it is its last day)."""
    return last_complete_month_end(as_of).replace(day=1)


def _values(rows: list[str], columns: str) -> str:
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) v({columns}))"


def _rounded(expected: str, u: str) -> str:
    """``expected`` rounded down or up at random (up with probability its fraction): unbiased."""
    return f"floor({expected} + {u})::INTEGER"


def _tables(con: duckdb.DuckDBPyConnection, o: GenerateOptions) -> None:
    s = o.seed
    ages = _values([f"('{k}', {i}, {sh}, {mv}, {dd})" for i, (k, _t, sh, mv, dd) in enumerate(AGES)], "age, ai, share, move_rate, death_rate")
    cits = _values([f"('{k}', {i}, {sh}, {im}, {em})" for i, (k, _t, sh, im, em) in enumerate(CITIZENSHIP)], "cit, ci, share, imm, emi")
    con.execute(
        """CREATE TABLE months AS
        SELECT year(d)::INTEGER AS aar, month(d)::INTEGER AS maaned, (row_number() OVER (ORDER BY d) - 1)::INTEGER AS mi,
          (date_diff('day', d, last_day(d)) + 1) / 365.25 AS share
        FROM (SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 1 MONTH))::DATE AS d)""",
        {"first": FIRST_MONTH, "last": max(FIRST_MONTH, last_month(o.as_of))},
    )
    con.execute(
        f"""CREATE TABLE groups AS
        SELECT m.aar, m.maaned, m.mi, m.share, k.kode, k.idx, a.age, a.ai, c.cit, c.ci, a.move_rate, a.death_rate, c.imm, c.emi,
          round(k.indbyggere * a.share * c.share * (1 + 0.004 * m.mi / 12.0)
                * (0.97 + 0.06 * {uniform(s, 20, 'k.idx', 'a.ai', 'c.ci')})
                * (0.998 + 0.004 * {uniform(s, 21, 'k.idx', 'm.mi', 'a.ai', 'c.ci')}))::INTEGER AS folketal
        FROM kommuner k, months m, {ages} a, {cits} c"""
    )
    con.execute(
        f"""CREATE TABLE moves AS
        SELECT g.mi, g.kode AS fra, g.age, g.cit, (hash({s}, 22, g.idx, g.mi, g.ai, g.ci, j.j) % 10000)::INTEGER AS slot, g.idx
        FROM groups g, LATERAL (SELECT unnest(range({_rounded('g.folketal * g.move_rate * g.share', uniform(s, 27, 'g.idx', 'g.mi', 'g.ai', 'g.ci'))})) AS j) j"""
    )
    con.execute(
        """CREATE TABLE move_counts AS
        WITH m AS (
          SELECT m.mi, m.fra, m.age, m.cit,
            CASE WHEN s.kode <> m.fra THEN s.kode ELSE (SELECT k.kode FROM kommuner k WHERE k.idx = (m.idx + 1) % 98) END AS til
          FROM moves m JOIN slots s ON s.slot = m.slot)
        SELECT mi, kode, age, cit, sum(ud)::INTEGER AS fraflyttede, sum(ind)::INTEGER AS tilflyttede FROM (
          SELECT mi, fra AS kode, age, cit, 1 AS ud, 0 AS ind FROM m
          UNION ALL SELECT mi, til, age, cit, 0, 1 FROM m) GROUP BY ALL"""
    )
    con.execute("DROP TABLE moves")
    events = {
        "foedte": (f"CASE WHEN g.age = '0-16' THEN g.folketal * 0.055 * g.share * (0.9 + 0.2 * {uniform(s, 23, 'g.idx', 'g.mi', 'g.ci')}) ELSE 0 END", 28),
        "doede": (f"g.folketal * g.death_rate * g.share * (0.8 + 0.4 * {uniform(s, 24, 'g.idx', 'g.mi', 'g.ai', 'g.ci')})", 29),
        "indvandrede": (f"g.folketal * g.imm * g.share * (0.7 + 0.6 * {uniform(s, 25, 'g.idx', 'g.mi', 'g.ai', 'g.ci')})", 30),
        "udvandrede": (f"g.folketal * g.emi * g.share * (0.7 + 0.6 * {uniform(s, 26, 'g.idx', 'g.mi', 'g.ai', 'g.ci')})", 31),
    }
    drawn = {name: _rounded(expected, uniform(s, salt, "g.idx", "g.mi", "g.ai", "g.ci")) for name, (expected, salt) in events.items()}
    con.execute(
        f"""CREATE TABLE befolkning_all AS
        SELECT g.aar, g.maaned, g.kode AS kommune, g.idx, g.ai, g.ci, g.age AS aldersgruppe, g.cit AS statsborgerskab,
          {drawn['foedte']} AS foedte, {drawn['doede']} AS doede,
          coalesce(mc.tilflyttede, 0) AS tilflyttede, coalesce(mc.fraflyttede, 0) AS fraflyttede,
          {drawn['indvandrede']} AS indvandrede, {drawn['udvandrede']} AS udvandrede,
          g.folketal
        FROM groups g LEFT JOIN move_counts mc ON mc.mi = g.mi AND mc.kode = g.kode AND mc.age = g.age AND mc.cit = g.cit
        ORDER BY g.idx, g.mi, g.ai, g.ci"""
    )
    for table in ("groups", "move_counts", "months"):
        con.execute(f"DROP TABLE {table}")


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
        write(con, f"SELECT aar, maaned, aldersgruppe, statsborgerskab, {_MEASURES} FROM befolkning_all WHERE kommune = $k ORDER BY aar, maaned, ai, ci",
              d / f"befolkning.{e}", o.fmt, {"k": kode})
        _dims(con, d, o.fmt)
        write_manifest(d, o, "borger", kode)
        dirs.append(d)
        tick()
    d = out / "borger" / "benchmark"
    write(con, f"SELECT aar, maaned, kommune, aldersgruppe, statsborgerskab, {_MEASURES} FROM befolkning_all ORDER BY aar, maaned, idx, ai, ci",
          d / f"befolkning.{e}", o.fmt)
    _dims(con, d, o.fmt)
    write_kommune_dim(con, d / f"dim_kommune.{e}", o.fmt)
    write_manifest(d, o, "borger", None)
    dirs.append(d)
    tick()
    con.execute("DROP TABLE befolkning_all")
    return dirs
