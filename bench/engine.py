"""What the engine costs over the SQL it compiles: a month × age group × sex query on ≥ 5M events.

Run: ``.venv/bin/python -m bench.engine [--dir DIR] [--rows 5000000] [--repeat 15]``

1. Builds (or reuses, under ``--dir``) a Ukraine-like DuckDB database laid out as
   ``schema/ukraine.yaml`` says, with pseudo-random events generated in DuckDB SQL
   (``range()`` and ``hash()``; 2022-01-01 … 2024-12-31, 98 kommuner + Udlandet).
2. Times the whole engine path (plan with its dimension probes, compile, execute, axis
   members, cell set) against the very statement it compiles, run directly on the DuckDB
   connection and fetched. Prints medians, p50/p99 and the ratio (target ≤ 1.2×), twice:
   cold (every member probe run again, as for a first query) and as the gateway runs it
   (a registry connection with the per-version member memo; the result cache is not used,
   so the fact query really runs every time). The engine runs the exact view (what an individual
   grant sees), so it does the same work as the direct SQL.
3. Times the protected view (disclosure control: record keys hashed per row, cell keys, noise)
   against the exact one and prints that ratio: the price of disclosure control.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.engine.compile import compile_plan
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.model.load import load_area
from gateway.model.view import exact_view, protected_view
from gateway.settings import PROJECT_ROOT

MAX_REPEAT = 200
AGE_GROUPS = ["0-5", "6-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
QUERY = CubeQuery(
    "Ukraine Statistik",
    ("[Measures].[Indrejste]", "[Measures].[Udrejste]", "[Measures].[Nettoindvandring]"),
    columns=(LevelItem("[Køn].[Køn]"),),
    rows=(LevelItem("[Tid].[Tid].[Måned]"), LevelItem("[Aldersgruppe].[Aldersgruppe]")),
)


def build_database(path: Path, rows: int) -> None:
    """Create the tables unless a database with at least ``rows`` events is already there."""
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        existing = raw.execute(
            "select count(*) from information_schema.tables where table_name = 'haendelser'"
        ).fetchone()[0]
        if existing and raw.execute("select count(*) from haendelser").fetchone()[0] >= rows:
            engine.dispose()
            return
        _create(raw, rows)
    engine.dispose()


def _create(raw: Any, rows: int) -> None:
    months = "['januar','februar','marts','april','maj','juni','juli','august','september','oktober','november','december']"
    raw.execute(f"""
        create or replace table dim_tid as
        select d::date as dato, year(d) as aar, cast(year(d) as varchar) as aar_tekst,
               year(d) || '-K' || quarter(d) as kvartal, quarter(d) || '. kvartal ' || year(d) as kvartal_tekst,
               strftime(d, '%Y-%m') as maaned, {months}[month(d)] || ' ' || year(d) as maaned_tekst,
               strftime(d, '%Y-%m-%d') as dag, day(d) || '. ' || {months}[month(d)] || ' ' || year(d) as dag_tekst,
               1 as dage
        from generate_series(date '2022-01-01', date '2024-12-31', interval 1 day) t(d)
    """)
    raw.execute("create or replace table dim_aldersgruppe (aldersgruppe varchar, aldersgruppe_tekst varchar, sortering integer)")
    raw.executemany("insert into dim_aldersgruppe values (?, ?, ?)",
                    [[g, f"{g} år", i] for i, g in enumerate(AGE_GROUPS)])
    raw.execute("create or replace table dim_koen as select * from (values ('K', 'Kvinde'), ('M', 'Mand')) t(koen, koen_tekst)")
    raw.execute("create or replace table dim_aegtefaelle as "
                "select * from (values ('J', 'Ja'), ('N', 'Nej')) t(aegtefaelle, aegtefaelle_tekst)")
    with (PROJECT_ROOT / "gateway" / "data" / "kommuner.csv").open(encoding="utf-8") as handle:
        kommuner = [[r["kode"], r["navn"], r["region"]] for r in csv.DictReader(handle)]
    raw.execute("create or replace table dim_kommune (kode varchar, navn varchar, region varchar)")
    raw.executemany("insert into dim_kommune values (?, ?, ?)", kommuner + [["999", "Udlandet", "Udlandet"]])
    raw.execute("create or replace temp table k as select row_number() over (order by kode) - 1 as i, kode from dim_kommune")
    raw.execute(f"""
        create or replace table haendelser as
        with e as (
            select i, hash(i) as h1, hash(i * 7 + 3) as h2, hash(i * 13 + 5) as h3 from range({rows}) r(i)
        )
        select date '2022-01-01' + cast(h1 % 1096 as integer) as dato,
               ['0-5','6-17','18-24','25-34','35-44','45-54','55-64','65+'][1 + cast(h2 % 8 as integer)] as aldersgruppe,
               case when h2 % 17 < 9 then 'K' else 'M' end as koen,
               case when h3 % 3 = 0 then 'J' else 'N' end as aegtefaelle,
               case when h3 % 4 = 0 then '999' else f.kode end as fra_kommune,
               case when h3 % 4 = 1 then '999' else t.kode end as til_kommune,
               cast(h3 % 4 = 0 as integer) as indrejst, cast(h3 % 4 = 1 as integer) as udrejst,
               cast(h3 % 4 = 2 as integer) as tilflyttet, cast(h3 % 4 = 3 as integer) as fraflyttet
        from e
        join k f on f.i = cast(h1 % 99 as integer)
        join k t on t.i = cast(h2 % 99 as integer)
    """)


def _timed(function: Callable[[], object], repeat: int) -> list[float]:
    function()  # warm up caches and the pool
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="reuse/build the database here (default: a temp dir)")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    repeat = max(1, min(args.repeat, MAX_REPEAT))
    directory = args.dir or Path(tempfile.mkdtemp(prefix="bench-engine-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ukraine_bench.duckdb"

    started = time.perf_counter()
    build_database(path, args.rows)
    print(f"database {path} ready in {time.perf_counter() - started:.1f}s")
    modelled = load_area(PROJECT_ROOT / "schema" / "ukraine.yaml").kommune_cubes
    cubes = tuple(exact_view(cube) for cube in modelled)
    protected = tuple(protected_view(cube, b"bench key") for cube in modelled)
    limits = Limits(cell_limit=1_000_000, timeout_seconds=120)
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.connect() as connection:
        events = connection.execute(sa.text("select count(*) from haendelser")).scalar_one()
        statement, _ = compile_plan(plan_query(connection, cubes, QUERY, cell_limit=limits.cell_limit))
        compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        sql = compiled.string
        params = [compiled.params[name] for name in (compiled.positiontup or [])]
        raw = connection.connection.driver_connection

        def direct() -> object:
            return raw.execute(sql, params).fetchall()

        def through_engine() -> object:
            return run_query(connection, cubes, QUERY, limits=limits)

        def protected_engine() -> object:
            return run_query(connection, protected, QUERY, limits=limits)

        cells = through_engine()
        direct_samples = _timed(direct, repeat)
        engine_samples = _timed(through_engine, repeat)
        protected_samples = _timed(protected_engine, repeat)
    engine.dispose()
    memo_samples = _as_the_gateway_runs_it(directory, path, cubes, limits, repeat)

    print(f"{events:,} events; query: month × age group × sex, 3 measures -> "
          f"{len(cells.axes[1].tuples)} rows × {len(cells.axes[0].tuples)} columns = {len(cells.cells):,} cells")
    print(f"{'':24}{'median':>10}{'p50':>10}{'p99':>10}   (ms, {repeat} runs)")
    for name, samples in (("direct DuckDB SQL", direct_samples), ("engine (plan→cell set)", engine_samples)):
        print(f"{name:24}{statistics.median(samples) * 1000:10.1f}{_percentile(samples, 0.5) * 1000:10.1f}"
              f"{_percentile(samples, 0.99) * 1000:10.1f}")
    print(f"{'engine, gateway path':24}{statistics.median(memo_samples) * 1000:10.1f}"
          f"{_percentile(memo_samples, 0.5) * 1000:10.1f}{_percentile(memo_samples, 0.99) * 1000:10.1f}")
    for name, samples in (("cold", engine_samples), ("gateway path", memo_samples)):
        ratio = statistics.median(samples) / statistics.median(direct_samples)
        print(f"ratio engine/direct, {name} (medians): {ratio:.2f}x  (target <= 1.2x) {'OK' if ratio <= 1.2 else 'ABOVE TARGET'}")
    price = statistics.median(protected_samples) / statistics.median(engine_samples)
    print(f"disclosure control: protected/exact engine (medians): {price:.2f}x "
          f"({statistics.median(protected_samples) * 1000:.1f} ms)")


def _as_the_gateway_runs_it(directory: Path, path: Path, cubes: Any, limits: Limits, repeat: int) -> list[float]:
    """Through a registry connection with the per-version member memo, as DataSession runs it."""
    from datetime import date

    from gateway.engine.cache import VersionMemo
    from gateway.registry import DatabaseRegistry, RegisteredDatabase

    registry = DatabaseRegistry(directory / "registry", max_open_engines=2)
    registry.publish([RegisteredDatabase("FLIS Ukraine-101", f"duckdb:///{path}", None, 1, date.today())])
    memo = VersionMemo()

    def run() -> object:
        with registry.connect("FLIS Ukraine-101") as connection:
            return run_query(connection, cubes, QUERY, limits=limits, memo=memo)

    run()
    try:
        return _timed(run, repeat)
    finally:
        registry.close()


if __name__ == "__main__":
    main()
