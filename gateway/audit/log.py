"""The audit trail in the metadata database: append, read, seal and verify.

:meth:`AuditLog.record_many` writes in its own transaction and raises :class:`AuditWriteError`
on any failure, so callers fail closed (refuse rather than serve unaudited). The trail is a
keyed hash chain (:mod:`gateway.audit.chain`) with signed checkpoints beside it
(:mod:`gateway.audit.checkpoints`); :meth:`AuditLog.verify` checks both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from gateway.audit import chain
from gateway.audit.checkpoints import AuditSeal, Checkpoint
from gateway.audit.events import OUTCOMES, AuditEvent, AuditRecord
from gateway.audit.formatters import write_export
from gateway.audit.sqlite_append import SqliteAppender
from gateway.audit.verify import TrailCheck, combine, verify_checkpoints_of
from gateway.errors import InternalError
from gateway.store.db import Database


class AuditWriteError(InternalError):
    """The event could not be written; the request must not be served."""


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in chain.FIELDS}


class AuditLog:
    """The trail of one metadata database, sealed by keys and checkpoints kept outside it."""

    def __init__(self, database: Database, seal: AuditSeal) -> None:
        self._database = database
        self.seal = seal
        # a SQLite file's hot path: one kept connection (see gateway.audit.sqlite_append)
        self._appender = SqliteAppender(database) if database.sqlite_path is not None else None

    def record(self, event: AuditEvent) -> int:
        """Write ``event`` now, in its own transaction; return its sequence number or raise."""
        return self.record_many([event])[0].seq

    def record_many(self, events: Sequence[AuditEvent]) -> list[chain.ChainLink]:
        """Write ``events`` in order in one transaction (all or none); return their (seq, hash).

        This is the group commit behind :class:`gateway.audit.broker.AuditBroker`: one lock
        and one commit for every request that arrived while the previous batch was written.
        """
        try:
            if self._appender is not None:
                return self._appender.append(self.seal.keys, [event_fields(e) for e in events])
            with self._database.write() as session:
                return chain.append_many(session, self.seal.keys, [event_fields(e) for e in events])
        except Exception as error:  # noqa: BLE001 - every failure must reach the caller as one type
            raise AuditWriteError(f"audit events could not be written: {type(error).__name__}: {error}") from error

    def head(self) -> chain.ChainLink:
        with self._database.read() as session:
            return chain.head(session)

    def checkpoint(self, *, kind: str = "manual", link: chain.ChainLink | None = None) -> Checkpoint:
        """Sign the chain head (or ``link``, a head this process just committed) into the checkpoint file."""
        at = link or self.head()
        return self.seal.checkpoints.publish(self.seal.keys, at.seq, at.hash, kind=kind)

    def verify(self, *, record_success: bool = False) -> TrailCheck:
        """Check the chain and every checkpoint; with ``record_success``, a good result is itself checkpointed."""
        from_checkpoints = verify_checkpoints_of(self.seal)
        with self._database.read() as session:
            rows = chain.verify(session, self.seal.keys, remember=from_checkpoints.seqs)
        check = combine(rows, from_checkpoints)
        if check.ok and record_success:
            self.seal.checkpoints.publish(self.seal.keys, check.head.seq, check.head.hash, kind="verified")
        return check

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
                AuditRecord(seq=row.seq, event=AuditEvent(**chain.row_fields(row)), prev_hash=row.prev_hash, hash=row.hash)
                for row in rows
            ]

    def export(self, out: IO[str], *, format: str, records: Iterable[AuditRecord] | None = None) -> int:
        """Write records (default: the whole trail) as CSV or JSON lines; return how many."""
        return write_export(out, self.query() if records is None else records, format=format)


