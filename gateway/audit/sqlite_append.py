"""The audit trail's hot path on a SQLite file: one kept connection per process, plain statements.

Every request's event is written through here (group-committed by
:class:`gateway.audit.broker.AuditBroker`), so the fixed cost of a batch is paid per request
under light load. Through a pooled SQLAlchemy session the same three statements cost ~1 ms of
CPU per batch (pool checkout and reset, the ORM transaction, Core execution); on a connection
kept open they cost ~0.1 ms. The rows are the same: the chain comes from
:func:`gateway.audit.chain.link_rows` as on every backend, and each value goes through the
table's own SQLAlchemy bind processor for SQLite, so readers see exactly what the Core path wrote.
Writers queue on the store's lock file before ``BEGIN IMMEDIATE`` (:mod:`gateway.store.db`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.audit import chain
from gateway.audit.keys import AuditKeys
from gateway.files import exclusive_lock
from gateway.store.db import BUSY_TIMEOUT_MS, Database
from gateway.store.tables import AuditChainHeadRow, AuditEventRow

_EVENTS = AuditEventRow.__table__
_HEADS = AuditChainHeadRow.__table__


class SqliteAppender:
    """Appends batches of events to a SQLite file's chain; thread-safe, one connection per process."""

    def __init__(self, database: Database) -> None:
        if database.sqlite_path is None or database.write_lock_path is None:
            raise ValueError("the SQLite appender needs a SQLite database file")
        self._path = database.sqlite_path
        self._queue = database.write_lock_path
        dialect = database.engine.dialect
        self._columns = [column.name for column in _EVENTS.columns]
        processors: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in _EVENTS.columns
        ]
        self._processors = list(zip(self._columns, processors))
        self._insert = (
            f"INSERT INTO {_EVENTS.name} ({', '.join(self._columns)}) VALUES ({', '.join('?' for _ in self._columns)})"
        )
        self._head = f"SELECT seq, hash FROM {_HEADS.name} WHERE id = 1"
        self._move_head = f"UPDATE {_HEADS.name} SET seq = ?, hash = ? WHERE id = 1"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None  # opened on first use, in the process that writes

    def append(self, keys: AuditKeys, events: Sequence[Mapping[str, Any]]) -> list[chain.ChainLink]:
        """Write ``events`` in order in one transaction (all or none); return their links."""
        with self._lock, exclusive_lock(self._queue):
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                found = connection.execute(self._head).fetchone()
                if found is None:
                    raise LookupError("the metadata store has no audit chain head; run migrations")
                rows, written = chain.link_rows(keys, chain.ChainLink(int(found[0]), str(found[1])), events)
                if rows:
                    connection.executemany(self._insert, [self._values(row) for row in rows])
                    connection.execute(self._move_head, (written[-1].seq, written[-1].hash))
                connection.execute("COMMIT")
            except BaseException:
                self._rollback(connection)
                raise
            return written

    def _values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] if process is None else process(row[name]) for name, process in self._processors)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")  # the file is in WAL mode already (its engine made it so)
            self._connection = connection
        return self._connection

    def _rollback(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            # no transaction left to end (or the file is gone): start afresh on the next batch
            connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
