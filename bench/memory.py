"""Peak memory with 10 vs 2,000 cube databases registered, 50 queries each; and with vs without
the model's aggregations built for the demo set.

    .venv/bin/python -m bench.memory
    .venv/bin/python -m bench.memory --aggregations [--kommune 101 ...]

``--aggregations`` (issue 10: peak RSS with aggregations built within 1.2× of the demo set
without them) builds the demo set twice, once from the cube models as they are and once from a
copy with every ``aggregations:`` entry removed, each build in its own child process, then
serves the same uncached query mix over every database of each (a child process per home,
through ``DataSession`` as the gateway runs it: the result cache off, the member memo on). It
prints the peak RSS of both builds and both servers and the ratios.

Each scenario runs in its own child process (peak RSS = the child's ``ru_maxrss`` from
``os.wait4``), so one scenario's allocations never count against the other. The databases are
tiny DuckDB files (copies of one template): registration should cost a JSON entry, not an
engine, so the ratio should stay near 1 (target <= 1.5).

Each open DuckDB engine holds a whole DuckDB instance (about 5 MiB resident), so memory grows
with the number of *open* engines, which ``max_open_engines`` bounds. The run is repeated for
the default bound (``Settings().max_open_engines``, 16) and for 64 (50 open engines against 10),
to show both effects separately.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

QUERIES = 50
TARGET = 1.5
TARGET_AGGREGATIONS = 1.2


def _child(directory: Path, registered: int, max_open: int) -> None:
    import sqlalchemy as sa

    from gateway.registry import DatabaseRegistry, RegisteredDatabase

    registry = DatabaseRegistry(directory / f"data-{registered}", max_open_engines=max_open)
    registry.publish(
        RegisteredDatabase(name=f"FLIS Bench-{i:04d}", url=f"duckdb:///{directory / f'db{i:04d}.duckdb'}", schema=None,
                           version=1, data_as_of=date(2024, 1, 31))
        for i in range(registered)
    )
    total = 0
    for q in range(QUERIES):
        with registry.connect(f"FLIS Bench-{q % registered:04d}") as connection:
            total += int(connection.execute(sa.text("SELECT sum(v) FROM t WHERE k < 500")).scalar_one())
    registry.close()
    print(total)


def _make_databases(directory: Path, count: int) -> None:
    import duckdb

    template = directory / "template.duckdb"
    con = duckdb.connect(str(template))
    con.execute("CREATE TABLE t AS SELECT range AS k, range % 7 AS v FROM range(1000)")
    con.close()
    for i in range(count):
        shutil.copyfile(template, directory / f"db{i:04d}.duckdb")


def _peak_rss_kib(directory: Path, registered: int, max_open: int) -> int:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.memory", "--child", str(registered), "--dir", str(directory),
         "--max-open", str(max_open)],
        stdout=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"scenario with {registered} databases failed")
    return int(usage.ru_maxrss)  # KiB on Linux


def _without_aggregations(schema_dir: Path, target: Path) -> Path:
    """A copy of the cube models with every aggregation removed (the demo set as before issue 10)."""
    import yaml

    target.mkdir(parents=True, exist_ok=True)
    for path in schema_dir.iterdir():
        if path.suffix not in (".yaml", ".yml"):
            if path.is_file():
                shutil.copyfile(path, target / path.name)
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("kommune_cubes", "benchmark_cubes"):
            for cube in document.get(key) or []:
                cube.pop("aggregations", None)
        (target / path.name).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _declared(schema: Path) -> int:
    from gateway.model import load_catalog

    catalog = load_catalog(schema)
    return sum(len(c.aggregations) for area in catalog.areas.values() for c in area.kommune_cubes + area.benchmark_cubes)


def _demo_settings(home: Path, schema: Path):  # type: ignore[no-untyped-def]
    from gateway.settings import Settings

    return Settings.from_env({"DATAADGANG_HOME": str(home), "DATAADGANG_SCHEMA_DIR": str(schema),
                              "DATAADGANG_RESULT_CACHE_CELLS": "0"})


def _demo_build(home: Path, schema: Path, kommuner: list[str]) -> None:
    from gateway.data.demo import build_demo_data

    build_demo_data(_demo_settings(home, schema), kommuner=kommuner or None, progress=False)


def _demo_queries(cube):  # type: ignore[no-untyped-def]
    """Each cube's shown measures by its time dimension's top level and by month, alone and
    against the first level of each other dimension a protected caller also sees: what a pivot
    asks first."""
    from gateway.engine.query import CubeQuery, LevelItem

    measures = tuple(m.unique_name for m in cube.measures if not m.name.startswith("\x00"))
    time = next((d for d in cube.dimensions if d.is_time), None)
    if time is None:
        return []
    levels = time.hierarchies[0].levels
    monthly = [lv for lv in levels if lv.name.casefold() in ("måned", "maaned")]
    queries = []
    for level in dict.fromkeys([levels[0], *(monthly or levels[-1:])]):  # the top level and the month
        on_time = LevelItem(f"[{time.name}].[{time.hierarchies[0].name}].[{level.name}]")
        queries.append(CubeQuery(cube.name, measures, rows=(on_time,)))
        for other in cube.dimensions:
            first = other.hierarchies[0].levels[0]
            if other is time or first.individual:
                continue
            by = LevelItem(f"[{other.name}].[{other.hierarchies[0].name}].[{first.name}]")
            queries.append(CubeQuery(cube.name, measures, columns=(by,), rows=(on_time,)))
    return queries


def _demo_serve(home: Path, schema: Path) -> None:
    """Every database of the home, every cube, the query mix, as the gateway's service layer runs
    it uncached (``DataSession._cell_set``: a registry connection per query, the member memo, the
    view a kommune's own user sees, protected for benchmark databases)."""
    from gateway.engine.cache import EngineCache
    from gateway.engine.execute import Limits, run_query
    from gateway.errors import DataadgangError
    from gateway.model import load_catalog
    from gateway.model.view import exact_view, protected_view
    from gateway.registry import DatabaseRegistry

    settings = _demo_settings(home, schema)
    catalog = load_catalog(settings.schema_dir)
    registry = DatabaseRegistry.from_settings(settings)
    memo = EngineCache(result_cells=0).memo
    limits = Limits.from_settings(settings)
    answered = refused = 0
    for name in sorted(registry.names()):
        ref = catalog.resolve_database(name)
        entry = registry.get(name)
        if ref is None or entry is None:
            continue
        cubes = tuple(protected_view(c, b"bench") if ref.is_benchmark else exact_view(c) for c in catalog.cubes_for(ref))
        for cube in cubes:
            for query in _demo_queries(cube):
                try:
                    with registry.connect(entry) as connection:
                        run_query(connection, cubes, query, limits=limits, data_as_of=entry.data_as_of, memo=memo)
                    answered += 1
                except DataadgangError:
                    refused += 1
    registry.close()
    print(answered, refused)


def _peak_rss_of(arguments: list[str]) -> tuple[int, str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.memory", *arguments], stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(arguments)} failed")
    return int(usage.ru_maxrss), output.strip()


def _aggregations(kommuner: list[str]) -> None:
    from gateway.settings import Settings

    schema_dir = Settings.from_env({}).schema_dir
    with tempfile.TemporaryDirectory(prefix="bench-memory-aggregations-") as tmp:
        directory = Path(tmp)
        variants = {"with aggregations": schema_dir,
                    "without aggregations": _without_aggregations(schema_dir, directory / "schema-without")}
        if _declared(variants["without aggregations"]) or not _declared(schema_dir):
            raise SystemExit("the two model variants do not differ in their aggregations: nothing to compare")
        peaks: dict[str, tuple[int, int]] = {}
        for name, schema in variants.items():
            home = directory / name.replace(" ", "-")
            common = ["--demo-home", str(home), "--demo-schema", str(schema)]
            built, _ = _peak_rss_of(["--demo-child", "build", *common, *(f"--kommune={k}" for k in kommuner)])
            served, counted = _peak_rss_of(["--demo-child", "serve", *common])
            peaks[name] = (built, served)
            sizes = sum(p.stat().st_size for p in home.rglob("*.duckdb"))
            print(f"{name:22} build {built / 1024:7.1f} MiB   serve {served / 1024:7.1f} MiB   "
                  f"(queries answered, refused: {counted}; cube files {sizes / 2**20:.1f} MiB)")
        (with_build, with_serve), (without_build, without_serve) = peaks["with aggregations"], peaks["without aggregations"]
        for what, ratio in (("build", with_build / without_build), ("serve", with_serve / without_serve)):
            verdict = "OK" if ratio <= TARGET_AGGREGATIONS else "OVER TARGET"
            print(f"peak RSS with / without aggregations, {what}: {ratio:.2f}x (target <= {TARGET_AGGREGATIONS}) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-open", type=int, action="append", help="max_open_engines bound(s) (default: the default and 64)")
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--aggregations", action="store_true",
                        help="peak RSS of the demo set with vs without the model's aggregations")
    parser.add_argument("--kommune", action="append", default=[], help="with --aggregations: only these kommuner")
    parser.add_argument("--demo-child", choices=("build", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--demo-home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--demo-schema", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.demo_child == "build":
        _demo_build(args.demo_home, args.demo_schema, args.kommune)
        return
    if args.demo_child == "serve":
        _demo_serve(args.demo_home, args.demo_schema)
        return
    if args.aggregations:
        _aggregations(args.kommune)
        return
    from gateway.settings import Settings

    bounds = args.max_open or [Settings.from_env({}).max_open_engines, 64]
    if args.child is not None:
        _child(args.dir, args.child, bounds[0])
        return
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        directory = Path(tmp)
        _make_databases(directory, args.large)
        for bound in bounds:
            small = _peak_rss_kib(directory, 10, bound)
            large = _peak_rss_kib(directory, args.large, bound)
            ratio = large / small
            print(f"max_open_engines={bound}")
            print(f"  peak RSS, 10 databases registered, {QUERIES} queries:     {small / 1024:8.1f} MiB")
            print(f"  peak RSS, {args.large} databases registered, {QUERIES} queried:  {large / 1024:8.1f} MiB")
            print(f"  ratio {ratio:.2f} (target <= {TARGET}): {'OK' if ratio <= TARGET else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
