"""Peak memory with 10 vs 2,000 cube databases registered, 50 queries each.

    .venv/bin/python -m bench.memory

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-open", type=int, action="append", help="max_open_engines bound(s) (default: the default and 64)")
    parser.add_argument("--large", type=int, default=2000)
    args = parser.parse_args()
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
