"""The database registry: database name -> where its current version lives, and engines on demand.

The registry file (``<data_dir>/registry.json``) is the atomically replaced pointer a load
swaps: written whole to a temporary file and renamed, under a lock, and re-read by every
process when its identity (inode, size, mtime) changes, so several gateway workers agree.
Registering a database costs one JSON entry; an engine is opened only when a query needs it,
at most ``max_open_engines`` stay open (least recently used idle ones are disposed; one in use
never is), and an engine for a version that is no longer current is disposed once idle.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from gateway.data.versions import atomic_write_text, locked
from gateway.engine.cache import VERSION_INFO_KEY
from gateway.errors import InternalError
from gateway.readonly_duckdb import DRIVER_NAME as READONLY_DUCKDB
from gateway.settings import Settings

REGISTRY_FILE = "registry.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class RegisteredDatabase:
    name: str  # 'FLIS Ukraine-101'
    url: str  # SQLAlchemy URL of the current version (a DuckDB file, or a PostgreSQL server)
    schema: str | None  # PostgreSQL schema holding this version; None for DuckDB
    version: int
    data_as_of: date | None
    area: str = ""
    kommune_kode: str | None = None
    built_at: datetime | None = None

    @property
    def identity(self) -> tuple[str, str, str | None, int, str | None]:
        """What names this version and no other: caches key on it. ``built_at`` is part of it,
        so a database unregistered and loaded again under the same version number is new."""
        return (self.name, self.url, self.schema, self.version, self.built_at.isoformat() if self.built_at else None)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["data_as_of"] = self.data_as_of.isoformat() if self.data_as_of else None
        data["built_at"] = self.built_at.isoformat() if self.built_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RegisteredDatabase:
        as_of, built = data.get("data_as_of"), data.get("built_at")
        return cls(
            name=str(data["name"]), url=str(data["url"]), schema=data.get("schema") or None,  # type: ignore[arg-type]
            version=int(data["version"]),  # type: ignore[call-overload]
            data_as_of=date.fromisoformat(str(as_of)) if as_of else None,
            area=str(data.get("area") or ""), kommune_kode=data.get("kommune_kode") or None,  # type: ignore[arg-type]
            built_at=datetime.fromisoformat(str(built)) if built else None,
        )


class _Slot:
    """One open engine and how many connections are checked out of it right now."""

    __slots__ = ("engine", "in_use")

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.in_use = 0


def _create_engine(url: str) -> sa.Engine:
    if url.startswith("duckdb"):
        # read-only: a gateway never writes cube data, and many processes may open one file; and
        # so no transaction per request either (gateway.readonly_duckdb)
        readonly = sa.make_url(url).set(drivername=READONLY_DUCKDB)
        return sa.create_engine(readonly, connect_args={"read_only": True}, pool_size=2, max_overflow=6)
    return sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=8)


class DatabaseRegistry:
    """Name -> :class:`RegisteredDatabase`, persisted in ``data_dir``; bounded LRU of engines."""

    def __init__(self, data_dir: Path, *, max_open_engines: int = 16) -> None:
        if max_open_engines < 1:
            raise ValueError("max_open_engines must be at least 1")
        self.data_dir = data_dir
        self.path = data_dir / REGISTRY_FILE
        self.max_open_engines = max_open_engines
        self._lock = threading.RLock()
        self._stamp: tuple[int, int, int] | None = None
        self._entries: dict[str, RegisteredDatabase] = {}
        self._engines: OrderedDict[str, _Slot] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseRegistry:
        return cls(settings.data_dir, max_open_engines=settings.max_open_engines)

    # --- reading ------------------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        entries = self._read() if stamp is not None else {}
        with self._lock:
            self._entries, self._stamp = entries, stamp
            self._dispose_idle_stale()

    def _read(self) -> dict[str, RegisteredDatabase]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise InternalError(f"database registry {self.path} is unreadable: {error}") from error
        if data.get("format") != FORMAT:
            raise InternalError(f"database registry {self.path} has unknown format {data.get('format')!r}")
        return {name: RegisteredDatabase.from_json(entry) for name, entry in data["databases"].items()}

    def get(self, name: str) -> RegisteredDatabase | None:
        self._refresh()
        return self._entries.get(name)

    def all(self) -> tuple[RegisteredDatabase, ...]:
        self._refresh()
        return tuple(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        return [e.name for e in self.all()]

    # --- writing (loaders) --------------------------------------------------------------

    def publish(self, entries: Iterable[RegisteredDatabase]) -> dict[str, RegisteredDatabase]:
        """Make ``entries`` current in one atomic replacement; returns the entries they replaced."""
        new = list(entries)
        with locked(self.data_dir / ".registry.lock"):
            current = self._read()
            replaced = {e.name: current[e.name] for e in new if e.name in current}
            current.update({e.name: e for e in new})
            document = {"format": FORMAT, "databases": {n: current[n].to_json() for n in sorted(current)}}
            atomic_write_text(self.path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
        self._refresh()
        return replaced

    def unregister(self, name: str) -> RegisteredDatabase | None:
        with locked(self.data_dir / ".registry.lock"):
            current = self._read()
            removed = current.pop(name, None)
            document = {"format": FORMAT, "databases": {n: current[n].to_json() for n in sorted(current)}}
            atomic_write_text(self.path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
        self._refresh()
        return removed

    # --- engines ------------------------------------------------------------------------

    def open_engine_count(self) -> int:
        with self._lock:
            return len(self._engines)

    def _checkout(self, url: str) -> _Slot:
        with self._lock:
            slot = self._engines.get(url)
            if slot is None:
                slot = _Slot(_create_engine(url))
                self._engines[url] = slot
            self._engines.move_to_end(url)
            slot.in_use += 1
            self._evict()
            return slot

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            slot.in_use -= 1
            self._dispose_idle_stale()
            self._evict()

    def _evict(self) -> None:
        """Dispose least recently used idle engines while over the bound."""
        for url in list(self._engines):
            if len(self._engines) <= self.max_open_engines:
                return
            if self._engines[url].in_use == 0:
                self._engines.pop(url).engine.dispose()

    def _dispose_idle_stale(self) -> None:
        """Close idle engines of DuckDB versions no database points at any more."""
        current = {e.url for e in self._entries.values()}
        for url in [u for u, s in self._engines.items() if s.in_use == 0 and u not in current and u.startswith("duckdb")]:
            self._engines.pop(url).engine.dispose()

    @contextmanager
    def connect(self, database: str | RegisteredDatabase) -> Iterator[sa.Connection]:
        """A read-only connection to ``database``: on PostgreSQL inside a read-only transaction on
        the version's schema; on DuckDB straight on the version's read-only file (no transaction).

        Given a name, the current version; given an entry (from :meth:`get`), exactly that
        version, so a caller that keyed a cache on it reads what it keyed. The version is fixed
        when the block starts: a swap during the block does not move it, so a query in flight
        finishes on the version it began with.
        """
        entry = self.get(database) if isinstance(database, str) else database
        if entry is None:
            raise InternalError(f"database {database!r} is not registered")
        slot = self._checkout(entry.url)
        try:
            with slot.engine.connect() as connection:
                connection.info[VERSION_INFO_KEY] = entry.identity
                try:
                    if entry.schema is not None:
                        connection.begin()
                        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                        quoted = connection.dialect.identifier_preparer.quote_identifier(entry.schema)
                        connection.exec_driver_sql(f"SET LOCAL search_path TO {quoted}")
                    yield connection
                finally:
                    connection.info.pop(VERSION_INFO_KEY, None)
                    connection.rollback()  # PostgreSQL's transaction; nothing is sent to DuckDB
        finally:
            self._release(slot)

    def close(self) -> None:
        with self._lock:
            for slot in self._engines.values():
                slot.engine.dispose()
            self._engines.clear()
