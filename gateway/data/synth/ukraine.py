"""Synthetic Ukraine events: arrivals peaking in spring 2022, moves recorded in both kommuner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from gateway.data.synth.common import GenerateOptions, ext, pick, uniform, write, write_kommune_dim, write_manifest

PERSONS_PER_INHABITANT = 45_000 / 5_900_000  # about 45,000 arrivals since 2022 nationally
AGE_GROUPS = (("0-17", "0-17 år", 35.0), ("18-29", "18-29 år", 15.0), ("30-49", "30-49 år", 30.0),
              ("50-64", "50-64 år", 12.0), ("65+", "65 år og derover", 8.0))


def _persons(con: duckdb.DuckDBPyConnection, o: GenerateOptions) -> None:
    total = con.execute("SELECT sum(indbyggere) FROM kommuner").fetchone()
    n = max(1, round(float(total[0] if total else 0) * PERSONS_PER_INHABITANT * o.scale))
    s = o.seed
    span = "date_diff('day', DATE '2022-01-01', $as_of::DATE)"
    # 65 % in a spring-2022 wave (triangular, March to June), the rest spread evenly to as-of
    peak = f"55 + floor(125 * ({uniform(s, 3, 'range')} + {uniform(s, 4, 'range')}) / 2)"
    flat = f"floor({uniform(s, 5, 'range')} * ({span} + 1))"
    con.execute(
        f"""CREATE TABLE persons AS
        WITH p AS (
          SELECT range AS i,
            (DATE '2022-01-01' + (CASE WHEN {uniform(s, 2, 'range')} < 0.65 AND {peak} <= {span}
                                      THEN {peak} ELSE {flat} END)::INTEGER) AS arrival,
            {pick(uniform(s, 6, 'range'), [(a, w) for a, _t, w in AGE_GROUPS])} AS aldersgruppe,
            CASE WHEN {uniform(s, 7, 'range')} < 0.6 THEN 'K' ELSE 'M' END AS koen,
            {uniform(s, 8, 'range')} AS u_spouse, {uniform(s, 9, 'range')} AS u_move, {uniform(s, 10, 'range')} AS u_leave,
            (hash({s}, 11, range) % {10_000})::INTEGER AS home_slot, (hash({s}, 12, range) % {10_000})::INTEGER AS dest_slot,
            (hash({s}, 13, range) % 400)::INTEGER AS move_after, (hash({s}, 14, range) % 500)::INTEGER AS leave_after
          FROM range({n})
        )
        SELECT p.i, p.arrival, p.aldersgruppe, p.koen,
          CASE WHEN p.aldersgruppe <> '0-17' AND p.u_spouse < 0.3 THEN 'Ja' ELSE 'Nej' END AS aegtefaelle,
          h.kode AS home,
          CASE WHEN p.u_move < 0.2 AND p.arrival + 10 + p.move_after <= $as_of::DATE
               THEN p.arrival + 10 + p.move_after END AS moved,
          CASE WHEN d.kode <> h.kode THEN d.kode
               ELSE (SELECT k2.kode FROM kommuner k2 WHERE k2.idx = (h.idx + 1) % 98) END AS dest,
          p.u_leave, p.leave_after
        FROM p JOIN slots h ON h.slot = p.home_slot JOIN slots d ON d.slot = p.dest_slot""",
        {"as_of": o.as_of},
    )
    con.execute(
        """CREATE TABLE events AS
        WITH x AS (
          SELECT *, CASE WHEN u_leave < 0.3 AND coalesce(moved, arrival) + 20 + leave_after <= $as_of::DATE
                         THEN coalesce(moved, arrival) + 20 + leave_after END AS left_dk
          FROM persons)
        SELECT home AS owner, arrival AS dato, 0 AS kind, i, aldersgruppe, koen, aegtefaelle,
               '000' AS fra_kommune, home AS til_kommune, 1 AS indrejst, 0 AS udrejst, 0 AS tilflyttet, 0 AS fraflyttet FROM x
        UNION ALL
        SELECT home, moved, 1, i, aldersgruppe, koen, aegtefaelle, home, dest, 0, 0, 0, 1 FROM x WHERE moved IS NOT NULL
        UNION ALL
        SELECT dest, moved, 2, i, aldersgruppe, koen, aegtefaelle, home, dest, 0, 0, 1, 0 FROM x WHERE moved IS NOT NULL
        UNION ALL
        SELECT CASE WHEN moved IS NULL THEN home ELSE dest END, left_dk, 3, i, aldersgruppe, koen, aegtefaelle,
               CASE WHEN moved IS NULL THEN home ELSE dest END, '000', 0, 1, 0, 0 FROM x WHERE left_dk IS NOT NULL""",
        {"as_of": o.as_of},
    )
    con.execute("CREATE TABLE events_sorted AS SELECT * FROM events ORDER BY owner, dato, i, kind")
    con.execute("DROP TABLE events")
    con.execute("DROP TABLE persons")


def _dims(con: duckdb.DuckDBPyConnection, d: Path, fmt: str) -> None:
    e = ext(fmt)
    write(con, "SELECT * FROM dim_alder ORDER BY sortering", d / f"dim_aldersgruppe.{e}", fmt)
    write(con, "SELECT * FROM (VALUES ('K', 'Kvinde'), ('M', 'Mand')) v(koen, koen_tekst)", d / f"dim_koen.{e}", fmt)
    write(con, "SELECT * FROM (VALUES ('Ja', 'Ja'), ('Nej', 'Nej')) v(aegtefaelle, aegtefaelle_tekst)",
          d / f"dim_aegtefaelle.{e}", fmt)
    write_kommune_dim(con, d / f"dim_kommune.{e}", fmt, udlandet=True)


_EVENT_COLUMNS = "aldersgruppe, koen, aegtefaelle, fra_kommune, til_kommune, indrejst, udrejst, tilflyttet, fraflyttet"


def generate(con: duckdb.DuckDBPyConnection, out: Path, o: GenerateOptions, tick: Callable[[], None]) -> list[Path]:
    """Write ``out/ukraine/<kode>/`` for every wanted kommune and ``out/ukraine/benchmark/``: the
    wanted kommuner's events together, each with its kommune, so the benchmark is always the sum
    of the kommune databases generated beside it (the whole country when all 98 are wanted)."""
    _persons(con, o)
    con.execute("CREATE TABLE dim_alder AS SELECT * FROM (VALUES " + ", ".join(
        f"('{a}', '{t}', {i + 1})" for i, (a, t, _w) in enumerate(AGE_GROUPS)) + ") v(aldersgruppe, aldersgruppe_tekst, sortering)")
    dirs = []
    e = ext(o.fmt)
    wanted = []
    for idx, kode in con.execute("SELECT idx, kode FROM kommuner ORDER BY idx").fetchall():
        if not o.wants(kode):
            continue
        wanted.append(idx)
        d = out / "ukraine" / kode
        write(con, f"""SELECT dato, {_EVENT_COLUMNS}
                      FROM events_sorted WHERE owner = $k ORDER BY dato, i, kind""", d / f"haendelser.{e}", o.fmt, {"k": kode})
        _dims(con, d, o.fmt)
        write_manifest(d, o, "ukraine", kode)
        dirs.append(d)
        tick()
    d = out / "ukraine" / "benchmark"
    owners = ", ".join(str(i) for i in wanted) or "NULL"
    write(con, f"""SELECT dato, owner AS kommune, {_EVENT_COLUMNS}
                  FROM events_sorted JOIN kommuner ON kode = owner WHERE idx IN ({owners})
                  ORDER BY dato, idx, i, kind""", d / f"haendelser.{e}", o.fmt)
    _dims(con, d, o.fmt)
    write_manifest(d, o, "ukraine", None)
    dirs.append(d)
    tick()
    con.execute("DROP TABLE events_sorted")
    return dirs
