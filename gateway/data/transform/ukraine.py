"""Ukraine: the events file is the fact table as delivered; the loader adds the day table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb

from gateway.data.transform.common import create_daily_time, refuse_first

FIRST_DAY = date(2022, 1, 1)  # counts cover Ukrainians who entered Denmark since 2022-01-01


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date, pseudonym_key: str
) -> None:
    label = labels["haendelser"]
    refuse_first(
        con, label, "dato",
        "SELECT _row, dato FROM src_haendelser WHERE dato < $first OR dato > $as_of",
        f"date {{value}} is outside {FIRST_DAY.isoformat()} .. data as of {as_of.isoformat()}",
        {"first": FIRST_DAY, "as_of": as_of},
    )
    if kommune_kode is not None:
        refuse_first(
            con, label, "fra_kommune",
            "SELECT _row, fra_kommune || '->' || til_kommune FROM src_haendelser WHERE fra_kommune <> $k AND til_kommune <> $k",
            f"event {{value}} does not involve kommune {kommune_kode} (file for another kommune?)",
            {"k": kommune_kode},
        )
    con.execute("CREATE TABLE haendelser AS SELECT * EXCLUDE (_row) FROM src_haendelser ORDER BY dato, _row")
    for table in ("dim_aldersgruppe", "dim_koen", "dim_aegtefaelle", "dim_kommune"):
        con.execute(f"CREATE TABLE {table} AS SELECT * EXCLUDE (_row) FROM src_{table} ORDER BY _row")
    create_daily_time(con, "dim_tid", FIRST_DAY, as_of)
