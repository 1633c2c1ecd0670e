"""Build one database version from source files, then swap it in.

``load_database`` stages and validates every source file (gateway.data.validate), runs the
area's transform (gateway.data.transform), writes ``_dataadgang`` (what the catalog shows as
"data as of") into a new version beside the current one, and only when all of that succeeded
publishes it in the registry. A refused load leaves the current version serving untouched.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from gateway.data import versions
from gateway.data.aggregate import build_in_duckdb, build_in_postgres
from gateway.data.layout import source_layout
from gateway.data.pgcopy import copy_to_postgres, drop_old_schemas
from gateway.data.transform import BUILDERS
from gateway.data.validate import stage
from gateway.errors import LoadError
from gateway.model.catalog import kommune_database_name
from gateway.model.load import load_area
from gateway.model.types import AreaModel, Cube
from gateway.registry import DatabaseRegistry, RegisteredDatabase

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LoadRequest:
    area: str
    kommune_kode: str | None  # None: the area's benchmark database
    source_dir: Path
    as_of: date | None = None  # default: the source's manifest.json, else today
    target: str | None = None  # a PostgreSQL URL; None: a DuckDB file under data_dir


@dataclass(frozen=True, slots=True)
class LoadResult:
    database: RegisteredDatabase
    rows: Mapping[str, int]  # table -> rows in the new version


def database_name(model: AreaModel, kommune_kode: str | None) -> str:
    """The database a load fills, from the area's model (``FLIS Ukraine-101``)."""
    if kommune_kode is None:
        if model.naming.benchmark is None:
            raise LoadError(f"schema/{model.id}.yaml", "this area has no benchmark database")
        return model.naming.benchmark
    if model.naming.kommune is None:
        raise LoadError(f"schema/{model.id}.yaml", "this area has no kommune databases (use --benchmark)")
    return kommune_database_name(model.naming.kommune, kommune_kode)


def _model(schema_dir: Path, request: LoadRequest, model: AreaModel | None) -> AreaModel:
    """The area's model: the caller's (a catalog it already holds), else read once from its file."""
    return model if model is not None else load_area(schema_dir / f"{request.area}.yaml")


def _cubes(model: AreaModel, request: LoadRequest) -> tuple[Cube, ...]:
    """The cubes the database holds, whose aggregations the load builds."""
    return model.kommune_cubes if request.kommune_kode is not None else model.benchmark_cubes


def _manifest(source_dir: Path) -> dict[str, object]:
    path = source_dir / "manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise LoadError(str(path), f"not valid JSON: {error}") from None
    return data if isinstance(data, dict) else {}


def _as_of_and_source(request: LoadRequest) -> tuple[date, str]:
    """Data as of: the request's, else the source's manifest.json, else today."""
    manifest = _manifest(request.source_dir)
    try:
        as_of = request.as_of or (date.fromisoformat(str(manifest["data_as_of"])) if manifest.get("data_as_of") else date.today())
    except ValueError:
        raise LoadError(str(request.source_dir / "manifest.json"), "data_as_of is not a date (yyyy-mm-dd)") from None
    return as_of, str(manifest.get("source") or f"files in {request.source_dir.resolve()}")


def check_source(
    request: LoadRequest, *, schema_dir: Path, step: Step = lambda _: None, model: AreaModel | None = None
) -> dict[str, int]:
    """Everything a load does short of writing a version: raises LoadError as a load would.
    What ``dataadgang refresh --dry-run`` runs, so a dry run finds the file a real run refuses."""
    as_of, source = _as_of_and_source(request)
    # nothing a check computes is kept, so it needs no stable pseudonyms (and must not create the key file)
    return _build_file(None, request, version=0, as_of=as_of, source=source, step=step,
                       pseudonym_key=secrets.token_hex(32), cubes=_cubes(_model(schema_dir, request, model), request),
                       schema_dir=schema_dir)


SMALL_BLOCKS = 16_384  # bytes; DuckDB's default 256 KiB per table makes 300 tiny databases weigh 700 MB
SMALL_ROWS = 1_000_000
SMALL_SOURCE_BYTES = 32 * 1024 * 1024


def _source_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) if directory.is_dir() else 0


def _build_file(
    path: Path | None,
    request: LoadRequest,
    *,
    version: int,
    as_of: date,
    source: str,
    step: Step,
    pseudonym_key: str,
    cubes: tuple[Cube, ...],
    schema_dir: Path,
) -> dict[str, int]:
    """Stage, validate and transform in memory; write only the finished tables to ``path``
    (``None``: check only, write nothing)."""
    layout = source_layout(request.area, benchmark=request.kommune_kode is None)
    con = duckdb.connect()
    try:
        if _source_bytes(request.source_dir) < SMALL_SOURCE_BYTES:
            con.execute("SET threads = 1")  # many small loads run side by side; don't oversubscribe
        labels = stage(con, layout, request.source_dir, step=lambda t: step(f"checking {t}"))
        step("building cube tables")
        try:
            BUILDERS[request.area](
                con, labels, kommune_kode=request.kommune_kode, as_of=as_of, pseudonym_key=pseudonym_key,
                schema_dir=schema_dir,
            )
        except duckdb.Error as error:
            raise LoadError(str(request.source_dir), f"cannot build the cube tables: {str(error).splitlines()[0]}") from None
        if request.target is None:  # PostgreSQL builds its own after the copy: its cell keys hash differently
            step("building aggregations")
            build_in_duckdb(con, cubes)
        con.execute(
            """CREATE TABLE _dataadgang AS SELECT $area::VARCHAR AS area, $kode::VARCHAR AS kommune_kode,
               $version::INTEGER AS version, $built::TIMESTAMP AS built_at, $as_of::DATE AS data_as_of, $source::VARCHAR AS source""",
            {"area": request.area, "kode": request.kommune_kode, "version": version,
             "built": datetime.now(timezone.utc).replace(tzinfo=None), "as_of": as_of, "source": source},
        )
        tables = [
            r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND NOT temporary "
                "AND NOT starts_with(table_name, 'src_') ORDER BY table_name"
            ).fetchall()
        ]
        counted = con.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)).fetchall()
        rows = {str(t): int(n) for t, n in counted}
        if path is None:
            return rows
        step("writing the new version")
        block = f" (BLOCK_SIZE {SMALL_BLOCKS})" if sum(rows.values()) < SMALL_ROWS else ""
        con.execute(f"ATTACH '{path}' AS out{block}")
        con.execute("BEGIN")  # one commit for all tables, not one per table
        for table in tables:
            con.execute(f'CREATE TABLE out."{table}" AS SELECT * FROM memory."{table}"')
        con.execute("COMMIT")
        con.execute("DETACH out")
        return rows
    finally:
        con.close()


def load_database(
    request: LoadRequest,
    *,
    schema_dir: Path,
    registry: DatabaseRegistry,
    step: Step = lambda _: None,
    model: AreaModel | None = None,
) -> LoadResult:
    """Build a new version of the request's database and make it current. Raises LoadError.

    ``model`` is the area's model when the caller holds a catalog (refresh, the demo build), so
    hundreds of loads do not each read and check the area's file again.
    """
    model = _model(schema_dir, request, model)
    name = database_name(model, request.kommune_kode)
    as_of, source = _as_of_and_source(request)
    cubes = _cubes(model, request)
    directory = versions.database_dir(registry.data_dir, name)
    with versions.locked(directory / ".lock"):
        current = registry.get(name)
        version = versions.next_version(directory, current.version if current else None)
        final = versions.version_file(directory, version)
        partial = final.with_name(final.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            rows = _build_file(
                partial, request, version=version, as_of=as_of, source=source, step=step,
                pseudonym_key=versions.pseudonym_key(registry.data_dir), cubes=cubes, schema_dir=schema_dir,
            )
            if request.target is None:
                partial.replace(final)
                url, schema = f"duckdb:///{final.resolve()}", None
            else:
                step("copying to PostgreSQL")
                schema = versions.schema_name(name, version, versions.deployment_id(registry.data_dir))
                copy_to_postgres(partial, request.target, schema)
                step("building aggregations")
                rows.update(build_in_postgres(request.target, schema, cubes))
                url = request.target
        finally:
            partial.unlink(missing_ok=True)
            partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
        entry = RegisteredDatabase(
            name=name, url=url, schema=schema, version=version, data_as_of=as_of, area=request.area,
            kommune_kode=request.kommune_kode, built_at=datetime.now(timezone.utc).replace(microsecond=0),
        )
        registry.publish([entry])
        step("removing old versions")
        versions.prune(directory, {version, current.version} if current else {version})
        if request.target is not None:
            deployment = versions.deployment_id(registry.data_dir)
            keep = {versions.schema_name(name, version, deployment)} | ({current.schema} if current and current.schema else set())
            drop_old_schemas(request.target, name, keep, deployment)
        return LoadResult(entry, rows)
