"""The daily refresh: new source files in a drop directory become new database versions.

Layout (the same as ``dataadgang generate`` writes)::

    <drop>/<area>/<kode>/        one kommune database's source files (as ``dataadgang load`` reads them)
    <drop>/<area>/benchmark/     the area's benchmark database

Each directory is hashed (file names, sizes and contents; hidden files and ``*.tmp``,
``*.partial``, ``*.part`` are ignored, so an upload in progress under such a name is not
read). A database whose input hash equals the one its current version was built from is left
alone; any other is built by the loader beside the current version and swapped in
atomically. A directory that fails validation is reported with the loader's message (file,
row, column) and its database keeps serving the old version; the other databases go on.

One refresh at a time: a second one started meanwhile stops at once with
:class:`RefreshBusyError` (a non-blocking ``flock`` on ``<data>/.refresh.lock``; the kernel
releases it when a run dies). Every run that is not a dry run is recorded in the metadata
store (:class:`gateway.store.refresh.RefreshLog`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import sqlalchemy as sa

from gateway.data.layout import AREAS, has_kind
from gateway.data.loader import LoadRequest, check_source, load_database
from gateway.errors import InternalError, LoadError, UserError
from gateway.files import LockBusyError, try_exclusive_lock
from gateway.model import AreaModel, Catalog, load_catalog
from gateway.model.catalog import kommune_database_name
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings
from gateway.store.refresh import InputState, RefreshLog

BENCHMARK_DIR = "benchmark"
LOCK_FILE = ".refresh.lock"
_IGNORED_SUFFIXES = (".tmp", ".partial", ".part")


class RefreshBusyError(UserError):
    """Another refresh holds the lock; this one did nothing."""

    code = "REFRESH_BUSY"


@dataclass(frozen=True, slots=True)
class DropSource:
    area: str
    kommune_kode: str | None  # None: the area's benchmark database
    path: Path
    database: str


@dataclass(frozen=True, slots=True)
class SourceResult:
    database: str
    source: str
    action: str  # loaded | unchanged | failed | would load
    version: int | None = None
    rows: int = 0
    error: str | None = None


@dataclass
class RefreshReport:
    drop_dir: Path
    dry_run: bool
    run_id: int | None = None
    results: list[SourceResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # directories that name no database

    def count(self, action: str) -> int:
        return sum(1 for r in self.results if r.action == action)

    @property
    def changed(self) -> int:
        return self.count("loaded") + self.count("would load")

    @property
    def failed(self) -> int:
        return self.count("failed") + len(self.problems)

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results if r.action == "loaded")

    @property
    def status(self) -> str:
        if self.failed:
            return "partial" if self.changed else "failed"
        return "changed" if self.changed else "unchanged"

    def as_records(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.results] + [{"action": "failed", "error": p} for p in self.problems]


def input_hash(directory: Path) -> str:
    """SHA-256 over the directory's source files: names, sizes and contents, in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if _is_source_file(p)):
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\n")
    return digest.hexdigest()


def _is_source_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(_IGNORED_SUFFIXES)


def _visible_dirs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_drop(drop_dir: Path, catalog: Catalog) -> tuple[list[DropSource], list[str]]:
    """The databases the drop directory has sources for, and what in it names none."""
    sources: list[DropSource] = []
    problems: list[str] = []
    for area_dir in _visible_dirs(drop_dir):
        area = area_dir.name
        if area not in AREAS or area not in catalog.areas:
            problems.append(f"{area_dir}: not a data area (expected one of {', '.join(AREAS)})")
            continue
        naming = catalog.areas[area].naming
        for source_dir in _visible_dirs(area_dir):
            benchmark = source_dir.name == BENCHMARK_DIR
            kode = None if benchmark else source_dir.name
            if not has_kind(area, benchmark=benchmark) or (kode is not None and kode not in catalog.kommuner):
                expected = "a kommune code or 'benchmark'" if has_kind(area, benchmark=True) and has_kind(area, benchmark=False) \
                    else ("'benchmark'" if has_kind(area, benchmark=True) else "a kommune code")
                problems.append(f"{source_dir}: not a database of {area} (expected {expected})")
                continue
            if not any(_is_source_file(p) for p in source_dir.iterdir()):
                continue  # an empty directory is a kommune with nothing new, not an error
            database = naming.benchmark if kode is None else kommune_database_name(naming.kommune or "", kode)
            sources.append(DropSource(area, kode, source_dir, str(database)))
    return sources, problems


def refresh(
    settings: Settings,
    log: RefreshLog,
    *,
    drop_dir: Path,
    started_by: str,
    dry_run: bool = False,
    target: str | None = None,
    on_start: Callable[[int], None] = lambda _: None,
    step: Callable[[str], None] = lambda _: None,
    advance: Callable[[], None] = lambda: None,
) -> RefreshReport:
    """One run over ``drop_dir``; raises RefreshBusyError when another run holds the lock.

    ``target``: a PostgreSQL URL for databases not loaded before; a database already on
    PostgreSQL is refreshed where it is, one on DuckDB stays on DuckDB.
    """
    if not drop_dir.is_dir():
        raise UserError(f"the drop directory {drop_dir} does not exist")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with try_exclusive_lock(settings.data_dir / LOCK_FILE):
            return _run(settings, log, drop_dir, started_by, dry_run, target, on_start, step, advance)
    except LockBusyError:
        raise RefreshBusyError("another refresh is running; this one changed nothing (try again when it is done)") from None


def _run(
    settings: Settings, log: RefreshLog, drop_dir: Path, started_by: str, dry_run: bool, target: str | None,
    on_start: Callable[[int], None], step: Callable[[str], None], advance: Callable[[], None],
) -> RefreshReport:
    catalog = load_catalog(settings.schema_dir)
    sources, problems = scan_drop(drop_dir, catalog)
    report = RefreshReport(drop_dir=drop_dir, dry_run=dry_run, problems=problems)
    on_start(len(sources))
    registry = DatabaseRegistry.from_settings(settings)
    states = log.inputs([s.database for s in sources])
    if not dry_run:
        report.run_id = log.start_run(drop_dir=str(drop_dir), started_by=started_by)
    try:
        for source in sources:
            step(f"{source.database}: checking for changes")
            result = _refresh_one(settings, log, registry, catalog.areas[source.area], source, states.get(source.database),
                                  report, target, step)
            report.results.append(result)
            advance()
    finally:
        registry.close()
        if report.run_id is not None:
            complete = len(report.results) == len(sources)
            if not complete:  # interrupted (SIGTERM, Ctrl-C) or a fault: what was done stays done
                report.problems.append(f"the run stopped after {len(report.results)} of {len(sources)} databases")
            log.finish_run(report.run_id, status=report.status if complete else "failed",
                           changed=report.changed, unchanged=report.count("unchanged"), failed=report.failed,
                           rows=report.rows, report=report.as_records())
    return report


def _refresh_one(
    settings: Settings, log: RefreshLog, registry: DatabaseRegistry, model: AreaModel, source: DropSource,
    state: InputState | None,
    report: RefreshReport, target: str | None, step: Callable[[str], None],
) -> SourceResult:
    content_hash = input_hash(source.path)
    current = registry.get(source.database)
    if (state is not None and state.loaded_hash == content_hash and current is not None
            and current.version == state.loaded_version):
        return SourceResult(source.database, str(source.path), "unchanged", version=current.version)
    where = current.url if current is not None and current.schema is not None else target
    request = LoadRequest(source.area, source.kommune_kode, source.path, target=where)
    progress = lambda text: step(f"{source.database}: {text}")  # noqa: E731
    try:
        if report.dry_run:
            rows = check_source(request, schema_dir=settings.schema_dir, step=progress, model=model)
            return SourceResult(source.database, str(source.path), "would load", rows=sum(rows.values()))
        loaded = load_database(request, schema_dir=settings.schema_dir, registry=registry, step=progress,
                               model=model)
    except (LoadError, OSError, duckdb.Error, sa.exc.SQLAlchemyError) as error:
        message = str(error) if isinstance(error, LoadError) else f"{type(error).__name__}: {str(error).splitlines()[0]}"
        if not report.dry_run:
            log.record_failed(_run_id(report), source.database, content_hash=content_hash, error=message)
        return SourceResult(source.database, str(source.path), "failed", error=message)
    log.record_loaded(_run_id(report), source.database, content_hash=content_hash, version=loaded.database.version)
    return SourceResult(source.database, str(source.path), "loaded", version=loaded.database.version,
                        rows=sum(loaded.rows.values()))


def _run_id(report: RefreshReport) -> int:
    if report.run_id is None:
        raise InternalError("a refresh that is not a dry run must have started a run record")
    return report.run_id
