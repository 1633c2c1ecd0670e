"""Storage side of the audit trail: an append-only, keyed hash chain.

Row n stores ``hash_n = HMAC-SHA256(key[key_id_n], hash_{n-1} + canonical_json(seq_n, fields_n,
key_id_n))`` (hex), starting from 64 zeros; the key lives outside the database
(:mod:`gateway.audit.keys`), so a database writer cannot recompute a hash after editing a row.
Rows written before keys were introduced have no key id and ``sha256`` in its place; they may
only precede every keyed row (a later unkeyed row is a downgrade and breaks the chain), and the
first checkpoint seals them. The chain head (last seq and hash) is a separate row that every
writer locks first, so concurrent writers append one at a time and a truncated tail is detected
as well as an edited or deleted row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.audit.keys import AuditKeyError, AuditKeys, KeyGeneration
from gateway.store.tables import GENESIS_HASH, AuditChainHeadRow, AuditEventRow

# The hashed fields, in the audit record format's order (a stable public interface).
FIELDS = (
    "time",
    "login",
    "cert_fingerprint",
    "kommune_kode",
    "client_address",
    "operation",
    "database",
    "query",
    "outcome",
    "reason",
    "cells",
    "duration_ms",
    "request_id",
)


def _canonical_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "time":
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if name == "cells":
        return int(value)
    if name == "duration_ms":
        return float(value)
    return str(value)


def canonical_json(seq: int, fields: Mapping[str, Any], key_id: str | None = None) -> str:
    """Sorted keys, no whitespace, UTF-8, UTC time with microseconds: the same bytes on every backend."""
    document = {name: _canonical_value(name, fields[name]) for name in FIELDS}
    document["seq"] = seq
    if key_id is not None:
        document["key_id"] = key_id
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, seq: int, fields: Mapping[str, Any], key: KeyGeneration | None) -> str:
    """The row's hash: HMAC under ``key``, or plain SHA-256 for a row from before keys (``None``)."""
    data = (prev_hash + canonical_json(seq, fields, key.id if key else None)).encode("utf-8")
    return key.mac(data) if key is not None else hashlib.sha256(data).hexdigest()


class ChainLink(NamedTuple):
    seq: int
    hash: str


def append(session: Session, keys: AuditKeys, fields: Mapping[str, Any]) -> ChainLink:
    """Append one event inside the caller's write transaction; return its (seq, hash)."""
    return append_many(session, keys, [fields])[0]


def append_many(session: Session, keys: AuditKeys, events: Sequence[Mapping[str, Any]]) -> list[ChainLink]:
    """Append events in order inside the caller's write transaction; return their (seq, hash).

    The head row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction is
    already ``BEGIN IMMEDIATE``), so the read-increment-write below cannot interleave. The
    chain is computed here and the rows go in as one multi-row insert.
    """
    connection = session.connection()  # Core on the session's transaction
    heads = AuditChainHeadRow.__table__
    head = connection.execute(
        sa.select(heads.c.seq, heads.c.hash).where(heads.c.id == 1).with_for_update()
    ).one()
    rows, written = link_rows(keys, ChainLink(head.seq, head.hash), events)
    if rows:
        connection.execute(sa.insert(AuditEventRow.__table__), rows)
        new_head = written[-1]
        connection.execute(sa.update(heads).where(heads.c.id == 1).values(seq=new_head.seq, hash=new_head.hash))
    return written


def link_rows(
    keys: AuditKeys, head: ChainLink, events: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[ChainLink]]:
    """The rows that append ``events`` after ``head`` (every column of ``audit_events``), and their
    links; the caller holds the write lock and moves the head to the last link."""
    seq, prev_hash = head
    key = keys.active
    rows: list[dict[str, Any]] = []
    written: list[ChainLink] = []
    for fields in events:
        seq += 1
        digest = chain_hash(prev_hash, seq, fields, key)
        rows.append(
            {"seq": seq, "prev_hash": prev_hash, "hash": digest, "key_id": key.id, **{name: fields[name] for name in FIELDS}}
        )
        written.append(ChainLink(seq, digest))
        prev_hash = digest
    return rows, written


def head(session: Session) -> ChainLink:
    row = session.scalars(sa.select(AuditChainHeadRow).where(AuditChainHeadRow.id == 1)).one()
    return ChainLink(row.seq, row.hash)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    first_bad_seq: int | None = None
    head: ChainLink = ChainLink(0, GENESIS_HASH)
    unkeyed: int = 0  # rows from before keys were introduced (sealed by the first checkpoint)
    hashes: Mapping[int, str] = field(default_factory=dict)  # the verified hash at each asked-for seq


def row_fields(row: AuditEventRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def verify(session: Session, keys: AuditKeys, *, remember: Collection[int] = (), batch: int = 1000) -> ChainCheck:
    """Walk the chain from the start; report the first row that was changed, removed or reordered.

    ``remember`` names sequence numbers whose verified hash the caller wants back (checkpoints).
    """
    current = head(session)
    rows = session.scalars(
        sa.select(AuditEventRow).where(AuditEventRow.seq <= current.seq).order_by(AuditEventRow.seq)
        .execution_options(yield_per=batch)
    )
    expected_seq, prev_hash, checked, unkeyed, keyed_seen = 1, GENESIS_HASH, 0, 0, False
    wanted, hashes = frozenset(remember), {}

    def broken(problem: str, seq: int) -> ChainCheck:
        return ChainCheck(False, checked, problem, seq, current, unkeyed, hashes)

    try:
        for row in rows:
            if row.seq != expected_seq:
                return broken(f"row {expected_seq} is missing (next row is {row.seq})", expected_seq)
            if row.prev_hash != prev_hash:
                return broken(f"row {row.seq} does not link to row {row.seq - 1}", row.seq)
            if row.key_id is None and keyed_seen:
                return broken(f"row {row.seq} was modified after it was written (its key id was removed)", row.seq)
            try:
                key = keys.get(row.key_id) if row.key_id is not None else None
            except AuditKeyError:
                return broken(f"row {row.seq} names audit key {row.key_id!r}, which is not in the key directory", row.seq)
            if chain_hash(prev_hash, row.seq, row_fields(row), key) != row.hash:
                return broken(f"row {row.seq} was modified after it was written", row.seq)
            keyed_seen = keyed_seen or key is not None
            unkeyed += key is None
            if row.seq in wanted:
                hashes[row.seq] = row.hash
            prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    finally:
        rows.close()  # a server-side cursor on PostgreSQL: release it even when we stop early
    if checked != current.seq or prev_hash != current.hash:
        return broken(f"the trail ends at row {checked} but {current.seq} rows were written", checked + 1)
    return ChainCheck(True, checked, None, None, current, unkeyed, hashes)


def select_rows(
    session: Session,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    login: str | None = None,
    database: str | None = None,
    outcome: str | None = None,
    kommune_kode: str | None = None,
    limit: int | None = None,
) -> Iterator[AuditEventRow]:
    query = sa.select(AuditEventRow).order_by(AuditEventRow.seq)
    if since is not None:
        query = query.where(AuditEventRow.time >= since)
    if until is not None:
        query = query.where(AuditEventRow.time < until)
    if login is not None:
        query = query.where(AuditEventRow.login == login.strip().lower())
    if database is not None:
        query = query.where(AuditEventRow.database == database)
    if outcome is not None:
        query = query.where(AuditEventRow.outcome == outcome)
    if kommune_kode is not None:
        query = query.where(AuditEventRow.kommune_kode == kommune_kode)
    if limit is not None:
        query = query.limit(limit)
    rows = session.scalars(query.execution_options(yield_per=1000))
    try:
        yield from rows
    finally:
        rows.close()
