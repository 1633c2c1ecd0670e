"""SQL shared by the area builders: time dimensions and small fixed dimension tables.

Level keys are TEXT (member unique names carry them: ``[Tid].[Måned].&[2022-03]``); the
``dage`` column holds the days of each period up to data-as-of, so a period in progress counts
only its elapsed days (year-to-date for Helårsmodtagere).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import duckdb

MONTHS = "['januar','februar','marts','april','maj','juni','juli','august','september','oktober','november','december']"

_PARTS = f"""
    strftime(d, '%Y') AS aar, strftime(d, '%Y') AS aar_tekst,
    strftime(d, '%Y') || '-K' || quarter(d) AS kvartal,
    quarter(d) || '. kvt. ' || strftime(d, '%Y') AS kvartal_tekst,
    strftime(d, '%Y-%m') AS maaned,
    list_extract({MONTHS}, month(d)) || ' ' || strftime(d, '%Y') AS maaned_tekst
"""


def last_complete_month_end(as_of: date) -> date:
    """The last day of the latest whole month up to ``as_of`` (``as_of`` itself when it is a
    month's last day): the seed's "sidste dag i seneste måned", and where monthly data ends."""
    return as_of if (as_of + timedelta(days=1)).day == 1 else as_of.replace(day=1) - timedelta(days=1)


def create_daily_time(con: duckdb.DuckDBPyConnection, table: str, first: date, as_of: date) -> None:
    """One row per day from ``first`` to ``as_of``; key ``dato`` (DATE), ``dage`` = 1."""
    con.execute(
        f"""CREATE TABLE {table} AS
        SELECT d::DATE AS dato, {_PARTS},
          strftime(d, '%Y-%m-%d') AS dag,
          day(d) || '. ' || list_extract({MONTHS}, month(d)) || ' ' || strftime(d, '%Y') AS dag_tekst,
          1 AS dage
        FROM (SELECT unnest(generate_series($first::DATE, $as_of::DATE, INTERVAL 1 DAY))::DATE AS d)
        ORDER BY dato""",
        {"first": first, "as_of": as_of},
    )


def create_monthly_time(con: duckdb.DuckDBPyConnection, table: str, first: date, as_of: date) -> None:
    """One row per month from ``first``'s month to ``as_of``'s; ``dage`` stops at as-of."""
    con.execute(
        f"""CREATE TABLE {table} AS
        SELECT {_PARTS},
          (date_diff('day', d, least(last_day(d), $as_of::DATE)) + 1)::INTEGER AS dage
        FROM (SELECT unnest(generate_series(date_trunc('month', $first::DATE)::DATE,
                                            date_trunc('month', $as_of::DATE)::DATE, INTERVAL 1 MONTH))::DATE AS d)
        ORDER BY maaned""",
        {"first": first, "as_of": as_of},
    )


def create_values_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]
) -> None:
    """A small fixed dimension table from Python rows (codes from the seeds)."""
    cols = ", ".join(f"{name} {type_}" for name, type_ in columns)
    con.execute(f"CREATE TABLE {table} ({cols})")
    if rows:
        marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
        con.execute(f"INSERT INTO {table} VALUES {marks}", [value for row in rows for value in row])


def refuse_first(
    con: duckdb.DuckDBPyConnection,
    label: str,
    column: str,
    query: str,
    problem: str,
    params: dict[str, object] | None = None,
) -> None:
    """Raise LoadError naming the first row ``query`` returns as ``(_row, value)``.

    ``problem`` may use ``{value}``. Used for checks only an area knows (a date outside the
    area's period, a row that belongs to another kommune).
    """
    from gateway.errors import LoadError

    found = con.execute(query + " ORDER BY _row LIMIT 1", params or {}).fetchone()
    if found is not None:
        raise LoadError(label, problem.format(value=found[1]), row=int(found[0]), column=column)
