"""Group commit: every request waits for its own event; a failed batch fails every request in it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence

import pytest

from gateway.audit import AuditBroker, AuditEvent, AuditLog, AuditSeal, AuditWriteError, ChainLink
from gateway.store.store import MetadataStore


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        time=dt.datetime.now(dt.UTC), login=f"komb-fli-prod\\u{n}", cert_fingerprint=None, kommune_kode="101",
        client_address="127.0.0.1", operation="execute", database="FLIS Ukraine-101", query="{ x }",
        outcome="served", reason=None, request_id=f"r{n}",
    )


@pytest.fixture
def audit_log(metadata_url: str, audit_seal: AuditSeal) -> Iterator[AuditLog]:
    """On SQLite and on PostgreSQL (which refuses NUL in text: the case that matters)."""
    store = MetadataStore(metadata_url, seal=audit_seal)
    store.migrate()
    yield store.audit_log()
    store.close()


def test_concurrent_events_are_written_in_few_batches_each_with_its_own_number(audit_log: AuditLog) -> None:
    batches: list[int] = []
    original = audit_log.record_many

    def counting(events: Sequence[AuditEvent]) -> list[ChainLink]:
        batches.append(len(events))
        return original(events)

    audit_log.record_many = counting  # type: ignore[method-assign]
    writer = AuditBroker(audit_log)

    async def main() -> list[int]:
        return await asyncio.gather(*(writer.record(_event(n)) for n in range(100)))

    numbers = asyncio.run(main())
    assert sorted(numbers) == list(range(1, 101))
    assert sum(batches) == 100 and len(batches) < 100  # grouped
    records = audit_log.query()
    assert sorted(r.event.request_id for r in records) == sorted(f"r{n}" for n in range(100))
    assert audit_log.verify().ok


class _RefusingPoison(AuditLog):
    """Refuses any batch holding the event with request id 'poison', as PostgreSQL refuses a bad row."""

    def __init__(self, inner: AuditLog) -> None:
        self.inner = inner

    def record_many(self, events: Sequence[AuditEvent]) -> list[ChainLink]:
        if any(e.request_id == "poison" for e in events):
            raise AuditWriteError("invalid byte sequence")
        return self.inner.record_many(events)


def test_one_bad_event_fails_only_its_own_request(audit_log: AuditLog) -> None:
    writer = AuditBroker(_RefusingPoison(audit_log))

    async def main() -> list[object]:
        events = [_event(n) for n in range(4)]
        events.insert(2, dataclasses.replace(_event(9), request_id="poison"))
        return await asyncio.gather(*(writer.record(e) for e in events), return_exceptions=True)

    outcomes = asyncio.run(main())
    assert isinstance(outcomes[2], AuditWriteError)
    assert all(isinstance(o, int) for i, o in enumerate(outcomes) if i != 2)
    assert sorted(r.event.request_id for r in audit_log.query()) == ["r0", "r1", "r2", "r3"]
    assert audit_log.verify().ok


class _Down(AuditLog):
    def record_many(self, events: Sequence[AuditEvent]) -> list[ChainLink]:
        raise AuditWriteError("database is locked")


def test_when_the_store_is_down_every_request_fails_closed(audit_log: AuditLog) -> None:
    writer = AuditBroker(_Down.__new__(_Down))

    async def main() -> list[object]:
        return await asyncio.gather(*(writer.record(_event(n)) for n in range(5)), return_exceptions=True)

    assert all(isinstance(o, AuditWriteError) for o in asyncio.run(main()))


def test_a_nul_from_the_client_is_stored_escaped_not_refused(audit_log: AuditLog) -> None:
    event = dataclasses.replace(_event(1), database="FLIS Ukraine-\x00101", query="{ catalog(name: \"\x00\") }")
    assert "\x00" not in (event.database or "") and "\\x00" in (event.database or "")
    audit_log.record_many([event])
    (record,) = audit_log.query()
    assert record.event.database == "FLIS Ukraine-\\x00101"
    assert audit_log.verify().ok
