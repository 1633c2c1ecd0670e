"""On a SQLite file the trail's hot path writes through one kept connection: the rows it writes are
the rows the SQLAlchemy path writes (the chain runs on across both, every field reads back), and
a failed batch leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.audit import AuditSeal, AuditWriteError, chain
from gateway.audit.log import event_fields
from gateway.audit.sqlite_append import SqliteAppender
from gateway.store import MetadataStore
from test_audit_log import event


@pytest.fixture
def store(tmp_path: Path, audit_seal: AuditSeal) -> Iterator[MetadataStore]:
    with MetadataStore(f"sqlite:///{tmp_path / 'metadata.sqlite'}", seal=audit_seal) as metadata:
        metadata.migrate()
        yield metadata


def test_the_kept_connection_and_the_sqlalchemy_path_write_one_chain(store: MetadataStore) -> None:
    log = store.audit_log()
    assert isinstance(log._appender, SqliteAppender)  # the hot path under test
    written = [event(0), event(1, reason=None, cells=None, duration_ms=None, database=None, login="æøå\\ü")]
    log.record_many(written[:1])
    with store.database.write() as session:  # the store's own events go this way
        chain.append_many(session, store.seal.keys, [event_fields(written[1])])
    written.append(event(2, query="x" * 5000))
    log.record_many(written[2:])
    assert [record.event for record in log.query()] == written
    check = log.verify()
    assert check.ok, check.problem


def test_a_failed_batch_writes_nothing_and_the_next_one_goes_through(store: MetadataStore) -> None:
    log = store.audit_log()
    log.record_many([event(0)])
    broken = event(1)
    object.__setattr__(broken, "operation", None)  # NOT NULL in the table: the insert fails
    with pytest.raises(AuditWriteError):
        log.record_many([event(2), broken])
    log.record_many([event(3)])
    assert [r.event.request_id for r in log.query()] == ["req-0", "req-3"]
    assert log.verify().ok
    with store.database.read() as session:
        assert session.execute(sa.text("SELECT seq FROM audit_chain_head")).scalar_one() == 2
