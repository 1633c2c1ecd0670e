"""Synthetic Voksenhandicap deliveries: service periods (forløb) as kommunerne report them.

Deliberately imperfect, like real deliveries: a few rows trip each of DST's harmonisation
rules, and Ishøj (Tårnby) delivers some of Vallensbæk's (Dragør's) data under the special rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from gateway.data import voksenhandicap_rules as rules
from gateway.data.synth.common import GenerateOptions, ext, pick, uniform, write, write_kommune_dim, write_manifest

PERSONS_PER_INHABITANT = 0.004
YDELSE_WEIGHTS = {"1.1": 15, "1.3": 3, "1.4": 10, "1.8.1": 10, "1.8.2": 7, "1.12.0.1": 8, "1.12.0.2": 30,
                  "1.13.2": 3, "1.13.3": 1, "1.13.4": 6, "1.17": 2, "1.18.1": 3, "1.18.2": 2}


def _tables(con: duckdb.DuckDBPyConnection, o: GenerateOptions) -> None:
    s = o.seed
    con.execute(
        """CREATE TABLE steder AS
        SELECT k.kode || '-' || lpad(j.range::VARCHAR, 2, '0') AS opholdssted,
               'Bosted ' || k.navn || ' ' || (j.range + 1) AS navn, k.kode AS kommune, k.idx, j.range AS j
        FROM kommuner k, range(2 + k.indbyggere // 50000) j ORDER BY k.idx, j.range"""
    )
    con.execute(
        f"""CREATE TABLE vh_persons AS
        WITH p AS (
          SELECT k.kode, k.idx, k.indbyggere, row_number() OVER (ORDER BY k.idx, j.range) - 1 AS pid, j.range AS j
          FROM kommuner k, range(greatest(3, round(k.indbyggere * {PERSONS_PER_INHABITANT}))::INTEGER) j)
        SELECT p.*,
          -- 2 % are children when their first service starts (DST removes them)
          CASE WHEN {uniform(s, 30, 'pid')} < 0.02 THEN DATE '2010-01-01' + (hash({s}, 31, pid) % 2500)::INTEGER
               ELSE DATE '1940-01-01' + (hash({s}, 31, pid) % 22000)::INTEGER END AS foedselsdato,
          {uniform(s, 32, 'pid')} < 0.04 AS doed
        FROM p"""
    )
    start = f"(DATE '2015-01-01' + (hash({s}, 41, pid, f) % (date_diff('day', DATE '2015-01-01', $as_of::DATE) + 1))::INTEGER)"
    con.execute(
        f"""CREATE TABLE vh_forloeb AS
        WITH f AS (
          SELECT p.*, f.range AS f,
            {pick(uniform(s, 40, 'pid', 'f.range'), list(YDELSE_WEIGHTS.items()))} AS ydelse,
            {start.replace(', f)', ', f.range)')} AS start,
            (30 + hash({s}, 42, pid, f.range) % 1500)::INTEGER AS varighed,
            {uniform(s, 43, 'pid', 'f.range')} AS u_anomaly,
            {uniform(s, 44, 'pid', 'f.range')} AS u_betaling,
            hash({s}, 45, pid, f.range) AS h
          FROM vh_persons p, range((1 + hash({s}, 46, pid) % 3)::BIGINT) f)
        SELECT
          kode || '-' || lpad(pid::VARCHAR, 6, '0') || '-' || f AS forloeb_id,
          strftime(greatest(foedselsdato, DATE '1940-01-01'), '%d%m%y') || '-' || lpad((pid % 10000)::VARCHAR, 4, '0') AS personnummer,
          foedselsdato,
          CASE WHEN doed THEN $as_of::DATE - (hash({s}, 47, pid) % 400)::INTEGER END AS doedsdato,
          CASE WHEN u_anomaly < 0.005 THEN '9.9' ELSE ydelse END AS ydelse_kode,
          CASE WHEN u_anomaly >= 0.005 AND u_anomaly < 0.01 THEN 'X9'
               ELSE {pick(uniform(s, 48, 'pid', 'f'), [(m.kode, 1.0) for m in rules.default_maalgrupper()])} END AS maalgruppe_kode,
          CASE WHEN h % 33 = 0 THEN NULL ELSE chr(65 + (h % 5)::INTEGER) END AS funktionsvurdering,
          CASE WHEN ydelse IN {tuple(rules.RESIDENTIAL)} THEN
            (SELECT st.opholdssted FROM steder st WHERE st.idx = f.idx AND st.j = h % (2 + f.indbyggere // 50000)) END AS opholdssted,
          kode AS handlekommune,
          CASE WHEN kode IN ('{rules.ISHOEJ}', '{rules.TAARNBY}') AND u_betaling < 0.25
                 THEN CASE kode WHEN '{rules.ISHOEJ}' THEN '{rules.VALLENSBAEK}' ELSE '{rules.DRAGOER}' END
               WHEN u_betaling < 0.85 THEN NULL
               WHEN u_betaling < 0.95 THEN kode
               ELSE (SELECT k.kode FROM kommuner k WHERE k.idx = (f.idx + 1 + h % 97) % 98) END AS betalingskommune,
          CASE WHEN u_anomaly >= 0.01 AND u_anomaly < 0.015 THEN NULL ELSE start END AS startdato,
          CASE WHEN u_anomaly >= 0.015 AND u_anomaly < 0.02 THEN start - 10
               WHEN start + varighed > $as_of::DATE THEN NULL ELSE start + varighed END AS slutdato,
          idx, pid, f
        FROM f ORDER BY idx, pid, f""",
        {"as_of": o.as_of},
    )
    con.execute(
        f"""CREATE TABLE vh_godkendte AS
        SELECT k.kode AS kommune, y.kode AS ydelse_kode, q.kvartal, k.idx, y.i, q.d
        FROM kommuner k,
          (SELECT unnest($ydelser) AS kode, generate_subscripts($ydelser, 1) AS i) y,
          (SELECT strftime(d, '%Y') || '-K' || quarter(d) AS kvartal, d
           FROM (SELECT unnest(generate_series(DATE '2013-10-01', date_trunc('quarter', $as_of::DATE)::DATE - INTERVAL 1 DAY,
                                               INTERVAL 3 MONTH))::DATE AS d)) q
        WHERE {uniform(s, 50, 'k.idx', 'y.i', 'q.d')} < 0.85
        ORDER BY k.idx, y.i, q.d""",
        {"ydelser": [y.kode for y in rules.YDELSER], "as_of": o.as_of},
    )


_COLUMNS = ("forloeb_id, personnummer, foedselsdato, doedsdato, ydelse_kode, maalgruppe_kode, funktionsvurdering, "
            "opholdssted, handlekommune, betalingskommune, startdato, slutdato")


def _write(con: duckdb.DuckDBPyConnection, d: Path, o: GenerateOptions, area: str, kommune: str | None, deliverers: list[str]) -> None:
    e = ext(o.fmt)
    where, params = ("", {}) if kommune is None else ("WHERE list_contains($d, handlekommune)", {"d": deliverers})
    write(con, f"SELECT {_COLUMNS} FROM vh_forloeb {where} ORDER BY idx, pid, f", d / f"forloeb.{e}", o.fmt, params)
    write(con, "SELECT opholdssted, navn, kommune FROM steder ORDER BY idx, j", d / f"opholdssteder.{e}", o.fmt)
    gwhere, gparams = ("", {}) if kommune is None else ("WHERE kommune = $k", {"k": kommune})
    write(con, f"SELECT kommune, ydelse_kode, kvartal FROM vh_godkendte {gwhere} ORDER BY idx, i, d", d / f"godkendte.{e}", o.fmt, gparams)
    write_kommune_dim(con, d / f"dim_kommune.{e}", o.fmt)
    write_manifest(d, o, area, kommune)


def generate(con: duckdb.DuckDBPyConnection, out: Path, o: GenerateOptions, tick: Callable[[], None]) -> list[Path]:
    """Write ``out/voksenhandicap/<kode>/`` (what the kommune delivers, plus what its special-rule
    partner delivers for it) and ``out/voksenhandicap/benchmark/`` (every delivery)."""
    _tables(con, o)
    dirs = []
    for (kode,) in con.execute("SELECT kode FROM kommuner ORDER BY idx").fetchall():
        if not o.wants(kode):
            continue
        deliverers = [kode] + [h for h, p in rules.SPECIAL_PARTNERS.items() if p == kode]
        d = out / "voksenhandicap" / kode
        _write(con, d, o, "voksenhandicap", kode, deliverers)
        dirs.append(d)
        tick()
    d = out / "voksenhandicap" / "benchmark"
    _write(con, d, o, "voksenhandicap", None, [])
    dirs.append(d)
    tick()
    for table in ("steder", "vh_persons", "vh_forloeb", "vh_godkendte"):
        con.execute(f"DROP TABLE {table}")
    return dirs
