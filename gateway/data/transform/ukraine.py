"""Ukraine: the events file is the fact table as delivered; the loader adds the day table.

The benchmark's events carry ``kommune``, the kommune whose figures each counts in; its
Bopælskommune dimension is the kommune table without Udlandet (only the 98 kommuner).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb

from gateway.data.transform.common import create_daily_time, create_values_table, refuse_first
from gateway.model.kommuner import load_kommuner

# Data begin here: KL counts "ukrainske statsborgere, som er indrejst i Danmark siden 1. januar
# 2022" (seed 001). The standard report's "efter februar 2022" is a filter the report sets on
# Tid, so it is not cut from the data (docs/ukraine.md, "Start date").
FIRST_DAY = date(2022, 1, 1)


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date, pseudonym_key: str,
    schema_dir: Path,
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
    else:
        _check_benchmark(con, label)
    con.execute("CREATE TABLE haendelser AS SELECT * EXCLUDE (_row) FROM src_haendelser ORDER BY dato, _row")
    for table in ("dim_aldersgruppe", "dim_koen", "dim_aegtefaelle", "dim_kommune"):
        con.execute(f"CREATE TABLE {table} AS SELECT * EXCLUDE (_row) FROM src_{table} ORDER BY _row")
    if kommune_kode is None:
        con.execute(
            "CREATE TABLE dim_bopaelskommune AS SELECT d.* FROM dim_kommune d "
            "WHERE d.kode IN (SELECT kode FROM kommune_koder) ORDER BY d.kode"
        )
        con.execute("DROP TABLE kommune_koder")
    create_daily_time(con, "dim_tid", FIRST_DAY, as_of)


def _check_benchmark(con: duckdb.DuckDBPyConnection, label: str) -> None:
    """Every event counts in one of the 98 kommuner, and involves it (as from or to kommune)."""
    create_values_table(con, "kommune_koder", [("kode", "VARCHAR")], [(k.kode,) for k in load_kommuner()])
    refuse_first(
        con, label, "kommune",
        "SELECT _row, kommune FROM src_haendelser WHERE kommune NOT IN (SELECT kode FROM kommune_koder)",
        "kommune {value} is not one of the 98 kommuner (an event counts in the kommune it was registered in)",
    )
    refuse_first(
        con, label, "fra_kommune",
        "SELECT _row, kommune || ': ' || fra_kommune || '->' || til_kommune FROM src_haendelser "
        "WHERE fra_kommune <> kommune AND til_kommune <> kommune",
        "event {value} does not involve its kommune",
    )
