"""Borger: monthly population movements; the loader adds the month table and person-days.

The source gives each month's events and mean population (``folketal``). The fact table keeps
the events and replaces ``folketal`` by ``persondage`` = folketal × the month's days (up to
data-as-of), so the model's Befolkningstal (``days_weighted``: person-days ÷ days of the period) is the
mean population of whatever period a query selects, and every "pr. 10.000 indbyggere" is the
period's events over that mean. That holds only when every month between the first and the last
is delivered, so a gap is refused here, as is a month after data-as-of.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb

from gateway.data.layout import BORGER_COUNTS
from gateway.data.transform.common import create_monthly_time, refuse_first
from gateway.errors import LoadError

_MONTH = "make_date(aar, maaned, 1)"
_KEY = "printf('%04d-%02d', aar, maaned)"


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date, pseudonym_key: str,
    schema_dir: Path,
) -> None:
    label = labels["befolkning"]
    refuse_first(
        con, label, "maaned",
        f"SELECT _row, {_KEY} FROM src_befolkning WHERE {_MONTH} > date_trunc('month', $as_of::DATE)",
        f"month {{value}} is after the data-as-of date {as_of.isoformat()}",
        {"as_of": as_of},
    )
    _refuse_gaps(con, label, benchmark=kommune_kode is None)
    span = con.execute(f"SELECT min({_MONTH}), last_day(max({_MONTH})) FROM src_befolkning").fetchone()
    first, last = (span[0], span[1]) if span and span[0] is not None else (as_of.replace(day=1), as_of)
    # the time table ends with the data: a month after it would add days and no person-days
    create_monthly_time(con, "dim_tid", first, min(as_of, last))
    kommune = "kommune, " if kommune_kode is None else ""
    events = ", ".join(c for c in BORGER_COUNTS if c != "folketal")
    con.execute(
        f"""CREATE TABLE befolkning AS
        SELECT s.maaned, {kommune}aldersgruppe, statsborgerskab, {events}, (s.folketal::BIGINT * t.dage) AS persondage
        FROM (SELECT * REPLACE ({_KEY} AS maaned) FROM src_befolkning) s JOIN dim_tid t ON t.maaned = s.maaned
        ORDER BY s._row"""
    )
    tables = ["dim_aldersgruppe", "dim_statsborgerskab"] + (["dim_kommune"] if kommune_kode is None else [])
    for table in tables:
        con.execute(f"CREATE TABLE {table} AS SELECT * EXCLUDE (_row) FROM src_{table} ORDER BY _row")


def _refuse_gaps(con: duckdb.DuckDBPyConnection, label: str, *, benchmark: bool) -> None:
    """Every month from the first to the last delivered (per kommune in a benchmark): a missing
    month would count its days with no population and lower every mean over it."""
    per = "kommune" if benchmark else "NULL::VARCHAR"
    missing = con.execute(
        f"""WITH delivered AS (SELECT DISTINCT {per} AS kommune, {_MONTH} AS m FROM src_befolkning),
             span AS (SELECT min(m) AS first, max(m) AS last FROM delivered),
             months AS (SELECT unnest(generate_series(first, last, INTERVAL 1 MONTH))::DATE AS m FROM span),
             expected AS (SELECT k.kommune, months.m FROM (SELECT DISTINCT kommune FROM delivered) k, months)
        SELECT strftime(e.m, '%Y-%m'), e.kommune, strftime(s.first, '%Y-%m'), strftime(s.last, '%Y-%m')
        FROM expected e CROSS JOIN span s
        LEFT JOIN delivered d ON d.m = e.m AND d.kommune IS NOT DISTINCT FROM e.kommune
        WHERE d.m IS NULL
        ORDER BY e.m, e.kommune LIMIT 1"""
    ).fetchone()
    if missing is not None:
        month, kommune, first, last = missing
        whose = f" for kommune {kommune}" if kommune is not None else ""
        raise LoadError(
            label, f"no rows for month {month}{whose}: every month from the first ({first}) to the last ({last}) "
            "must be delivered, or the mean population over them is wrong",
            column="maaned",
        )
