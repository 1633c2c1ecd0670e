"""Engines and transactions for the metadata store.

Every write is one transaction that takes the write lock up front: SQLite gets ``BEGIN IMMEDIATE``
(a deferred transaction that later wants to write fails with "database is locked" instead of
waiting), PostgreSQL serialises on row locks taken first thing. Reads use ordinary transactions.

A SQLite file's writers (every worker's audit group commit, the portal, the CLI) first queue on
an ``flock`` of ``<file>-lock`` beside it. SQLite's own wait for its write lock is a busy handler
that sleeps with backoff (1, 2, 5, 10 ... 100 ms) and retries, so two workers committing audit
batches made requests wait up to 100 ms for a lock freed long before; a process blocked in
``flock`` wakes the moment the lock is released. SQLite's busy timeout stays as the bound for
writers that do not queue (another program on the file).
"""

from __future__ import annotations

import sqlite3
import time

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gateway.files import exclusive_lock

Clock = Callable[[], dt.datetime]

_BEGIN_MODE = "dataadgang_begin"
BUSY_TIMEOUT_MS = 30_000  # how long a SQLite connection waits for a lock held outside the queue


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_metadata_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine with the pragmas we rely on: WAL, foreign keys on, a busy timeout."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (see _on_begin); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            _enable_wal(cursor, deadline=time.monotonic() + busy_timeout_ms / 1000)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another backend or an in-memory database."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _enable_wal(cursor: Any, *, deadline: float) -> None:
    """Switch a (new) database file to WAL. The switch needs an exclusive lock and SQLite does
    not wait for it through the busy handler, so two processes opening a fresh file at once
    retry here until one has switched it (after that the PRAGMA is a no-op)."""
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Database:
    """Holds the engine pair (read, write) and hands out transactional sessions."""

    def __init__(self, url: str, *, clock: Clock = utc_now) -> None:
        self.url = url
        self.engine = create_metadata_engine(url)
        self.write_engine = self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
        self.clock = clock
        self.sqlite_path = sqlite_file(url)  # None unless a SQLite file
        file = self.sqlite_path
        self.write_lock_path = None if file is None else file.with_name(file.name + "-lock")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: a consistent snapshot, rolled back at the end."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session  # autobegun; closing the session rolls it back

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction holding the write lock from its first statement; all or nothing.

        On a SQLite file the writer queues on the ``flock`` first (see the module docstring).
        """
        queue = exclusive_lock(self.write_lock_path) if self.write_lock_path is not None else nullcontext()
        with queue, Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()
