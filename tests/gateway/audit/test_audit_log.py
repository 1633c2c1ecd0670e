from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.audit import EXPORT_COLUMNS, AuditEvent, AuditLog, AuditSeal, AuditWriteError
from gateway.store import MetadataStore

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[3]


def event(n: int = 0, **overrides: object) -> AuditEvent:
    fields: dict[str, object] = {
        "time": T0 + dt.timedelta(seconds=n, microseconds=123),
        "login": "komb-fli-prod\\kl_pri",
        "cert_fingerprint": "ab" * 32,
        "kommune_kode": "101",
        "client_address": "10.0.0.7",
        "operation": "execute",
        "database": "FLIS Ukraine-101",
        "query": "SELECT [Measures].[Indrejste] ON COLUMNS FROM [Ukraine Statistik]",
        "outcome": "served",
        "reason": "grant #1 (aggregated) for area 'ukraine'",
        "cells": 12,
        "duration_ms": 3.25,
        "request_id": f"req-{n}",
    }
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(metadata_url: str, audit_seal: AuditSeal) -> Iterator[MetadataStore]:
    with MetadataStore(metadata_url, seal=audit_seal) as metadata:
        metadata.migrate()
        yield metadata


@pytest.fixture
def log(store: MetadataStore) -> AuditLog:
    return store.audit_log()


def test_recorded_events_read_back_exactly(log: AuditLog) -> None:
    first = event(1, duration_ms=5)  # an int duration must hash the same after the round trip
    second = event(2, login=None, cert_fingerprint=None, kommune_kode=None, outcome="refused", cells=None, reason="no certificate")
    assert log.record(first) == 1
    assert log.record(second) == 2
    records = log.query()
    assert [record.seq for record in records] == [1, 2]
    assert records[0].event == first and records[1].event == second
    assert records[1].prev_hash == records[0].hash
    assert log.verify().ok


def test_query_filters(log: AuditLog) -> None:
    log.record(event(1))
    log.record(event(2, outcome="denied", database="FLIS Ukraine-147", cells=None))
    log.record(event(3, login="frb\\jens", kommune_kode="147"))
    assert [r.seq for r in log.query(outcome="denied")] == [2]
    assert [r.seq for r in log.query(database="FLIS Ukraine-101")] == [1, 3]
    assert [r.seq for r in log.query(login="FRB\\Jens")] == [3]
    assert [r.seq for r in log.query(since=T0 + dt.timedelta(seconds=2))] == [2, 3]
    assert [r.seq for r in log.query(until=T0 + dt.timedelta(seconds=2))] == [1]
    assert [r.seq for r in log.query(kommune_kode="147")] == [3]
    assert [r.seq for r in log.query(limit=1)] == [1]
    with pytest.raises(ValueError, match="unknown audit outcome"):
        log.query(outcome="ok")


def test_events_are_validated() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event(time=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="unknown audit outcome"):
        event(outcome="ok")


def test_csv_and_jsonl_export(log: AuditLog) -> None:
    log.record(event(1, query='a "quoted", multi\nline query'))
    log.record(event(2, cells=None))
    out = io.StringIO()
    assert log.export(out, format="csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert rows[0]["query"] == 'a "quoted", multi\nline query'
    assert rows[0]["time"] == "2025-03-01T12:00:01.000123+00:00"
    assert rows[1]["cells"] == ""
    lines = io.StringIO()
    assert log.export(lines, format="jsonl") == 2
    documents = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert list(documents[0]) == list(EXPORT_COLUMNS)
    assert documents[1]["cells"] is None and documents[1]["seq"] == 2
    assert documents[1]["prev_hash"] == documents[0]["hash"]
    with pytest.raises(ValueError, match="csv or jsonl"):
        log.export(io.StringIO(), format="xml")


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("update audit_events set cells = 13 where seq = 2", "row 2 was modified"),
        ("update audit_events set outcome = 'served', reason = 'x' where seq = 3", "row 3 was modified"),
        ("delete from audit_events where seq = 2", "row 2 is missing"),
        ("delete from audit_events where seq = 4", "ends at row 3 but 4 rows"),
        ("delete from audit_events", "ends at row 0 but 4 rows"),
        ("update audit_events set seq = seq + 10 where seq = 4", "ends at row 3"),
    ],
)
def test_tampering_is_detected(store: MetadataStore, log: AuditLog, tamper: str, problem: str) -> None:
    for n in range(1, 5):
        log.record(event(n, outcome="denied" if n == 3 else "served"))
    assert log.verify().ok and log.verify().checked == 4
    with store.database.engine.begin() as connection:
        connection.execute(sa.text(tamper))
    check = log.verify()
    assert not check.ok
    assert problem in (check.problem or "")


def test_rehashing_a_modified_row_still_breaks_the_link(store: MetadataStore, log: AuditLog) -> None:
    """Even a writer holding the key, who rehashes only the edited row, breaks the next link."""
    from gateway.audit.chain import chain_hash, row_fields
    from gateway.store.tables import AuditEventRow

    for n in range(1, 4):
        log.record(event(n))
    with store.database.write() as session:
        row = session.get(AuditEventRow, 2)
        assert row is not None
        row.cells = 0
        row.hash = chain_hash(row.prev_hash, row.seq, row_fields(row), store.seal.keys.get(row.key_id))
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 3


def test_a_failing_write_raises_and_leaves_the_chain_intact(store: MetadataStore, log: AuditLog) -> None:
    log.record(event(1))
    with store.database.engine.begin() as connection:
        if store.database.dialect == "sqlite":
            connection.exec_driver_sql(
                "create trigger audit_full before insert on audit_events begin select raise(abort, 'disk full'); end"
            )
        else:
            connection.exec_driver_sql(
                "create function audit_full() returns trigger language plpgsql as "
                "$$ begin raise exception 'disk full'; end $$"
            )
            connection.exec_driver_sql(
                "create trigger audit_full before insert on audit_events for each row execute function audit_full()"
            )
    with pytest.raises(AuditWriteError, match="disk full"):
        log.record(event(2))
    check = log.verify()
    assert check.ok and check.checked == 1


def test_a_store_that_is_down_raises(tmp_path: Path, audit_seal: AuditSeal) -> None:
    broken = MetadataStore(f"sqlite:///{tmp_path / 'never-migrated.sqlite'}", seal=audit_seal)
    with pytest.raises(AuditWriteError):
        broken.audit_log().record(event(1))
    broken.close()


_WRITER = """
import datetime as dt, sys
from pathlib import Path
from gateway.audit import AuditEvent, AuditSeal
from gateway.store import MetadataStore
url, tag, count, seal = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
with MetadataStore(url, seal=AuditSeal.in_directory(seal)) as store:
    log = store.audit_log()
    for n in range(count):
        log.record(AuditEvent(time=dt.datetime.now(dt.UTC), login=tag, cert_fingerprint=None, kommune_kode="101",
                   client_address="127.0.0.1", operation="execute", database="FLIS Ukraine-101", query=str(n),
                   outcome="served", reason="ok", cells=n, duration_ms=0.5, request_id=f"{tag}-{n}"))
"""


def test_concurrent_writers_keep_the_chain_valid_and_the_count_exact(metadata_url: str, log: AuditLog, tmp_path: Path) -> None:
    threads_n, per_thread, per_process = 6, 15, 30
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, metadata_url, "proc", str(per_process), str(tmp_path / "audit-seal")],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors: list[BaseException] = []

    def write(tag: int) -> None:
        try:
            for n in range(per_thread):
                log.record(event(n, login=f"thread{tag}", request_id=f"t{tag}-{n}"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(tag,)) for tag in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert errors == []
    check = log.verify()
    assert check.ok, check.problem
    expected = threads_n * per_thread + per_process
    assert check.checked == expected
    records = log.query()
    assert len({record.event.request_id for record in records}) == expected
    assert [record.seq for record in records] == list(range(1, expected + 1))


def test_long_values_are_recorded_not_refused(log: AuditLog) -> None:
    long = event(1, operation=",".join(["discover"] * 40), database=",".join(["FLIS Voksne Handicappede Benchmark"] * 20), request_id="r" * 200)
    log.record(long)
    assert log.query()[0].event == long
    assert log.verify().ok
