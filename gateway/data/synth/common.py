"""Seeded randomness for the synthetic data, in SQL.

Every random number is ``hash(seed, salt, row ids...)`` mapped to [0, 1): no state, no Python
loop, the same on every run and every thread count, so the same seed gives byte-identical
files. Salts are small integers, one per decision, so two decisions never share a number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from gateway.model.kommuner import Kommune, load_kommuner

SLOTS = 10_000  # population-weighted lookup table size for choosing a kommune


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    seed: int
    as_of: date
    scale: float = 1.0  # multiplies Ukraine volumes (benchmark data)
    kommuner: tuple[str, ...] | None = None  # None: all 98
    fmt: str = "parquet"  # or "csv" (KL Databank is always the seed's CSV layout)

    def wants(self, kode: str) -> bool:
        return self.kommuner is None or kode in self.kommuner


def uniform(seed: int, salt: int, *ids: str) -> str:
    """SQL for a uniform number in [0, 1) fixed by (seed, salt, ids)."""
    parts = ", ".join((str(seed), str(salt), *ids))
    return f"((hash({parts}) % 1000000007)::DOUBLE / 1000000007.0)"


def pick(u: str, choices: Sequence[tuple[str, float]]) -> str:
    """SQL CASE choosing a value by cumulative weights from the uniform expression ``u``."""
    total = sum(w for _, w in choices)
    acc, whens = 0.0, []
    for value, weight in choices[:-1]:
        acc += weight / total
        whens.append(f"WHEN {u} < {acc:.6f} THEN '{value}'")
    return f"(CASE {' '.join(whens)} ELSE '{choices[-1][0]}' END)"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    return con


def create_kommuner(con: duckdb.DuckDBPyConnection, kommuner: Sequence[Kommune] | None = None) -> None:
    """``kommuner(idx, kode, navn, region, indbyggere)`` and ``slots(slot, kode)`` (by population)."""
    rows = list(kommuner or load_kommuner())
    con.execute("CREATE TABLE kommuner (idx INTEGER, kode VARCHAR, navn VARCHAR, region VARCHAR, indbyggere INTEGER)")
    con.executemany("INSERT INTO kommuner VALUES (?, ?, ?, ?, ?)", [(i, k.kode, k.navn, k.region, k.indbyggere) for i, k in enumerate(rows)])
    con.execute(
        f"""CREATE TABLE slots AS
        WITH w AS (SELECT kode, idx, sum(indbyggere) OVER (ORDER BY idx) AS hi,
                          sum(indbyggere) OVER (ORDER BY idx) - indbyggere AS lo,
                          sum(indbyggere) OVER () AS total FROM kommuner)
        SELECT s.range AS slot, w.kode, w.idx FROM range({SLOTS}) s
        JOIN w ON s.range * w.total >= w.lo * {SLOTS} AND s.range * w.total < w.hi * {SLOTS}
        ORDER BY slot"""
    )


def write(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str, params: dict[str, object] | None = None) -> None:
    """COPY an ordered query to ``path`` (parquet or comma-separated CSV with a header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true, DELIMITER ','"
    con.execute(f"COPY ({query}) TO '{path}' ({options})", params or {})


def write_manifest(directory: Path, options: GenerateOptions, area: str, kommune_kode: str | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {
        "area": area,
        "kommune_kode": kommune_kode,
        "data_as_of": options.as_of.isoformat(),
        "source": f"synthetic (dataadgang generate, seed {options.seed}, scale {options.scale:g})",
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_kommune_dim(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, *, udlandet: bool = False) -> None:
    extra = " UNION ALL SELECT '000', 'Udlandet', 'Udlandet', 999" if udlandet else ""
    write(con, f"SELECT kode, navn, region FROM (SELECT kode, navn, region, idx FROM kommuner{extra}) ORDER BY idx", path, fmt)


def ext(fmt: str) -> str:
    return "parquet" if fmt == "parquet" else "csv"
