"""The metadata store's transactions: SQLite writers queue on a lock file before SQLite's own lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import sqlalchemy as sa

from gateway.files import exclusive_lock
from gateway.store.db import Database


def test_a_sqlite_writer_waits_in_the_queue_not_in_sqlites_busy_handler(tmp_path: Path) -> None:
    """While another writer (any process: flock) holds the queue, a write waits without touching
    SQLite's write lock, and goes ahead as soon as the queue is free."""
    file = tmp_path / "metadata.sqlite"
    database = Database(f"sqlite:///{file}")
    with database.write() as session:
        session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    assert database.write_lock_path == tmp_path / "metadata.sqlite-lock"
    finished = threading.Event()

    def write() -> None:
        with database.write() as session:
            session.execute(sa.text("INSERT INTO t VALUES (1)"))
        finished.set()

    with exclusive_lock(tmp_path / "metadata.sqlite-lock"):
        writer = threading.Thread(target=write)
        writer.start()
        assert not finished.wait(0.3)
        other = sqlite3.connect(file, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # SQLite's write lock is free: the writer is queued before it
        other.execute("ROLLBACK")
        other.close()
    assert finished.wait(10)
    writer.join()
    with database.read() as session:
        assert session.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
    database.dispose()


def test_only_a_sqlite_file_has_a_write_queue() -> None:
    assert Database("sqlite://").write_lock_path is None
