"""The audit trail: one event per request, written before the answer leaves.

:meth:`AuditLog.record` writes synchronously in its own transaction and raises
:class:`AuditWriteError` on any failure, so callers fail closed (refuse rather than serve
unaudited). The trail is a hash chain (see ``gateway.store.audit``); :meth:`AuditLog.verify`
finds an edited, deleted or truncated row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import IO, Any, Literal

from gateway.errors import InternalError
from gateway.store import audit as chain
from gateway.store.db import Database

Outcome = Literal["served", "denied", "failed", "refused"]
OUTCOMES: tuple[str, ...] = ("served", "denied", "failed", "refused")
EXPORT_FORMATS = ("csv", "jsonl")


class AuditWriteError(InternalError):
    """The event could not be written; the request must not be served."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One request as the trail records it. Field names and order are the audit record format."""

    time: dt.datetime  # timezone-aware; stored as UTC with microseconds
    login: str | None  # None when no principal was resolved
    cert_fingerprint: str | None
    kommune_kode: str | None
    client_address: str | None
    operation: str  # e.g. 'discover', 'execute', 'admin.grant'
    database: str | None  # as the client named it, existing or not
    query: str | None  # normalised query text
    outcome: Outcome
    reason: str | None  # access decision reason or error class; never shown to clients
    cells: int | None = None
    duration_ms: float | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("AuditEvent.time must be timezone-aware")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {self.outcome!r}; use one of {', '.join(OUTCOMES)}")
        if not self.operation:
            raise ValueError("AuditEvent.operation is required")
        # Client text lands in several fields; a NUL would make PostgreSQL refuse the whole
        # batch. Store it visibly escaped instead, so the probe itself stays on record.
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) and "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", "\\x00"))


_TEXT_FIELDS = ("login", "cert_fingerprint", "kommune_kode", "client_address", "operation", "database", "query", "reason")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """Flat JSON-ready form: seq, the event fields in order, prev_hash, hash."""
        document: dict[str, Any] = {"seq": self.seq}
        for name, value in asdict(self.event).items():
            document[name] = value.astimezone(dt.UTC).isoformat() if isinstance(value, dt.datetime) else value
        document["prev_hash"] = self.prev_hash
        document["hash"] = self.hash
        return document


EXPORT_COLUMNS: tuple[str, ...] = ("seq", *(field.name for field in fields(AuditEvent)), "prev_hash", "hash")


class AuditLog:
    """Append, read, export and verify the trail in the metadata database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, event: AuditEvent) -> int:
        """Write ``event`` now, in its own transaction; return its sequence number or raise."""
        try:
            with self._database.write() as session:
                seq, _ = chain.append(session, {name: getattr(event, name) for name in chain.FIELDS})
        except Exception as error:  # noqa: BLE001 - every failure must reach the caller as one type
            raise AuditWriteError(f"audit event could not be written: {type(error).__name__}: {error}") from error
        return seq

    def record_many(self, events: Sequence[AuditEvent]) -> list[int]:
        """Write ``events`` in order in one transaction (all or none); return their sequence numbers.

        This is the group commit behind :class:`gateway.audit_writer.AuditWriter`: one lock
        and one commit for every request that arrived while the previous batch was written.
        """
        try:
            with self._database.write() as session:
                appended = chain.append_many(session, [{name: getattr(e, name) for name in chain.FIELDS} for e in events])
                return [seq for seq, _ in appended]
        except Exception as error:  # noqa: BLE001 - every failure must reach the caller as one type
            raise AuditWriteError(f"audit events could not be written: {type(error).__name__}: {error}") from error

    def verify(self) -> chain.ChainCheck:
        with self._database.read() as session:
            return chain.verify(session)

    def query(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        login: str | None = None,
        database: str | None = None,
        outcome: str | None = None,
        kommune_kode: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        with self._database.read() as session:
            rows = chain.select_rows(
                session,
                since=since,
                until=until,
                login=login,
                database=database,
                outcome=outcome,
                kommune_kode=kommune_kode,
                limit=limit,
            )
            return [
                AuditRecord(
                    seq=row.seq,
                    event=AuditEvent(**chain.row_fields(row)),
                    prev_hash=row.prev_hash,
                    hash=row.hash,
                )
                for row in rows
            ]

    def export(self, out: IO[str], *, format: str, records: Iterable[AuditRecord] | None = None) -> int:
        """Write records (default: the whole trail) as CSV or JSON lines; return how many."""
        if format not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {format!r}; use csv or jsonl")
        chosen = self.query() if records is None else records
        return (_write_csv if format == "csv" else _write_jsonl)(out, chosen)


def _write_csv(out: IO[str], records: Iterable[AuditRecord]) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({key: "" if value is None else value for key, value in record.as_dict().items()})
        count += 1
    return count


def _write_jsonl(out: IO[str], records: Iterable[AuditRecord]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def iter_lines(records: Iterable[AuditRecord]) -> Iterator[str]:
    """One JSON document per record (for ``audit list --json``)."""
    for record in records:
        yield json.dumps(record.as_dict(), ensure_ascii=False)
