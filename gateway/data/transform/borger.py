"""Borger: yearly population movements; the loader adds the year table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb

from gateway.data.transform.common import create_yearly_time, refuse_first


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date, pseudonym_key: str
) -> None:
    label = labels["befolkning"]
    refuse_first(
        con, label, "aar",
        "SELECT _row, aar FROM src_befolkning WHERE NOT regexp_full_match(aar, '[0-9]{4}') OR aar::INTEGER > $y",
        f"year {{value}} is not a four-digit year up to {as_of.year} (data as of {as_of.isoformat()})",
        {"y": as_of.year},
    )
    for measure in ("foedte", "doede", "tilflyttede", "fraflyttede", "indvandrede", "udvandrede", "folketal"):
        refuse_first(
            con, label, measure, f"SELECT _row, {measure} FROM src_befolkning WHERE {measure} < 0",
            "negative count {value}",
        )
    con.execute("CREATE TABLE befolkning AS SELECT * EXCLUDE (_row) FROM src_befolkning ORDER BY _row")
    tables = ["dim_aldersgruppe", "dim_statsborgerskab"] + (["dim_kommune"] if kommune_kode is None else [])
    for table in tables:
        con.execute(f"CREATE TABLE {table} AS SELECT * EXCLUDE (_row) FROM src_{table} ORDER BY _row")
    first = con.execute("SELECT min(aar)::INTEGER FROM befolkning").fetchone()
    create_yearly_time(con, "dim_aar", int(first[0]) if first and first[0] is not None else as_of.year, as_of)
