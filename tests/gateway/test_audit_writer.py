"""Group commit: every request waits for its own event; a failed batch fails every request in it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import pytest

from gateway.audit import AuditEvent, AuditLog, AuditWriteError
from gateway.audit_writer import AuditWriter
from gateway.store.store import MetadataStore


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        time=dt.datetime.now(dt.UTC), login=f"komb-fli-prod\\u{n}", cert_fingerprint=None, kommune_kode="101",
        client_address="127.0.0.1", operation="execute", database="FLIS Ukraine-101", query="{ x }",
        outcome="served", reason=None, request_id=f"r{n}",
    )


@pytest.fixture
def audit_log(tmp_path: object) -> AuditLog:
    store = MetadataStore(f"sqlite:///{tmp_path}/meta.sqlite")  # type: ignore[str-bytes-safe]
    store.migrate()
    return store.audit_log()


def test_concurrent_events_are_written_in_few_batches_each_with_its_own_number(audit_log: AuditLog) -> None:
    batches: list[int] = []
    original = audit_log.record_many

    def counting(events: Sequence[AuditEvent]) -> list[int]:
        batches.append(len(events))
        return original(events)

    audit_log.record_many = counting  # type: ignore[method-assign]
    writer = AuditWriter(audit_log)

    async def main() -> list[int]:
        return await asyncio.gather(*(writer.record(_event(n)) for n in range(100)))

    numbers = asyncio.run(main())
    assert sorted(numbers) == list(range(1, 101))
    assert sum(batches) == 100 and len(batches) < 100  # grouped
    records = audit_log.query()
    assert sorted(r.event.request_id for r in records) == sorted(f"r{n}" for n in range(100))
    assert audit_log.verify().ok


class _FailingOnce(AuditLog):
    def __init__(self, inner: AuditLog) -> None:
        self.inner = inner
        self.failed = False

    def record_many(self, events: Sequence[AuditEvent]) -> list[int]:
        if not self.failed:
            self.failed = True
            raise AuditWriteError("disk full")
        return self.inner.record_many(events)


def test_a_failed_batch_fails_every_request_in_it_and_the_next_batch_still_writes(audit_log: AuditLog) -> None:
    writer = AuditWriter(_FailingOnce(audit_log))

    async def main() -> tuple[list[object], int]:
        first = await asyncio.gather(*(writer.record(_event(n)) for n in range(5)), return_exceptions=True)
        later = await writer.record(_event(99))
        return first, later

    first, later = asyncio.run(main())
    assert all(isinstance(outcome, AuditWriteError) for outcome in first)
    assert later == 1  # nothing half-written by the failed batch
    assert [r.event.request_id for r in audit_log.query()] == ["r99"]
