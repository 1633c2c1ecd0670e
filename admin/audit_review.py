"""The auditor's view of the audit trail: search, event detail, streamed export, reports, and the
chain's verification status. Auditors see their own kommune's events; operators see all.

This is the one module of the control plane that reads the trail's storage and formats
(``gateway.audit``, ``gateway.store.audit``), so when those move, one import changes. Results
are in time order (``seq`` breaks ties) and keyset-paged from the last event shown (never
OFFSET); each filter is backed by a ``(column, time, seq)`` index, so a page, with or without a
period, costs the same on the millionth event as on the first.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import sqlalchemy as sa

from gateway.audit import OUTCOMES, AuditEvent, AuditRecord, TrailCheck
from gateway.audit.formatters import EXPORT_FORMATS, write_export
from gateway.principal import Role
from gateway.audit import chain
from gateway.store.errors import ForbiddenError, RecordNotFoundError, ValidationError
from gateway.store.store import MetadataStore
from gateway.store.tables import AuditEventRow, AuditVerificationRow
from gateway.store.views import Actor

PAGE_SIZE = 50
EXPORT_BATCH = 1000
INDIVIDUAL_MARK = "read_individual"  # in the operation of a request that read person-level data


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    login: str | None = None
    database: str | None = None
    outcome: str | None = None
    operation: str | None = None  # a prefix: 'admin.' finds every administrative change
    kommune_kode: str | None = None  # operators only; others always see their own kommune
    individual: bool = False  # only requests that read person-level data

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ValidationError(f"unknown outcome '{self.outcome}' (use {', '.join(OUTCOMES)})")
        if self.since and self.until and self.until <= self.since:
            raise ValidationError("the end of the period must be after its start")


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: tuple[AuditRecord, ...]
    newest_first: bool
    next_after: int | None  # the seq of the event to continue after, None on the last page


@dataclass(frozen=True, slots=True)
class ChainStatus:
    ok: bool
    checked: int
    problem: str | None
    verified_at: dt.datetime
    verified_by: str
    trail: TrailCheck | None = field(default=None, compare=False)  # the whole check, when just run


# Canned searches auditors need often; each is a filter, so it pages and exports like any search.
REPORTS: dict[str, AuditFilter] = {
    "denied": AuditFilter(outcome="denied"),
    "refused": AuditFilter(outcome="refused"),
    "individual": AuditFilter(individual=True, outcome="served"),
    "admin": AuditFilter(operation="admin."),
}


def scoped(actor: Actor, wanted: AuditFilter) -> AuditFilter:
    """The filter as the actor may run it: an auditor's kommune is forced, whatever was asked."""
    if actor.is_operator:
        return wanted
    if Role.AUDITOR not in actor.roles or actor.kommune_kode is None:
        raise ForbiddenError(f"'{actor.login}' is neither an auditor nor an operator")
    return replace(wanted, kommune_kode=actor.kommune_kode)


def _where(query: sa.Select[tuple[AuditEventRow]], wanted: AuditFilter) -> sa.Select[tuple[AuditEventRow]]:
    row = AuditEventRow
    if wanted.since is not None:
        query = query.where(row.time >= wanted.since)
    if wanted.until is not None:
        query = query.where(row.time < wanted.until)
    if wanted.login:
        query = query.where(row.login == wanted.login.strip().lower())
    if wanted.database:
        query = query.where(row.database == wanted.database.strip())
    if wanted.outcome:
        query = query.where(row.outcome == wanted.outcome)
    if wanted.operation:
        # a prefix as a range (LIKE would not use the index on every backend): 'admin.' <= op < 'admin/'
        prefix = wanted.operation.strip()
        query = query.where(row.operation >= prefix, row.operation < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    if wanted.kommune_kode:
        query = query.where(row.kommune_kode == wanted.kommune_kode)
    if wanted.individual:
        query = query.where(row.operation.contains(INDIVIDUAL_MARK, autoescape=True))
    return query


def _record(row: AuditEventRow) -> AuditRecord:
    return AuditRecord(seq=row.seq, event=AuditEvent(**chain.row_fields(row)), prev_hash=row.prev_hash, hash=row.hash)


def search(
    store: MetadataStore,
    actor: Actor,
    wanted: AuditFilter,
    *,
    newest_first: bool = True,
    after: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of matching events, continuing after event ``after`` (a seq) in the chosen order."""
    wanted = scoped(actor, wanted)
    row = AuditEventRow
    query = _where(sa.select(row), wanted)
    key = sa.tuple_(row.time, row.seq)
    with store.database.read() as session:
        if after is not None:
            at = session.scalars(sa.select(row.time).where(row.seq == after)).one_or_none()
            if at is None:
                raise ValidationError("the page to continue from is not in the trail")
            position = sa.tuple_(sa.literal(at, row.time.type), sa.literal(after, row.seq.type))
            query = query.where(key < position if newest_first else key > position)
        order = (row.time.desc(), row.seq.desc()) if newest_first else (row.time, row.seq)
        rows = list(session.scalars(query.order_by(*order).limit(page_size + 1)))
    records = tuple(_record(row) for row in rows[:page_size])
    more = len(rows) > page_size
    return AuditPage(records=records, newest_first=newest_first, next_after=records[-1].seq if more and records else None)


def event(store: MetadataStore, actor: Actor, seq: int) -> AuditRecord:
    """One event; another kommune's and a missing one are the same 'no such event'."""
    wanted = scoped(actor, AuditFilter())
    with store.database.read() as session:
        row = session.get(AuditEventRow, seq)
        if row is None or (wanted.kommune_kode is not None and row.kommune_kode != wanted.kommune_kode):
            raise RecordNotFoundError("no such audit event")
        return _record(row)


def export_chunks(store: MetadataStore, actor: Actor, wanted: AuditFilter, fmt: str) -> Iterator[str]:
    """The matching events, oldest first, as CSV or JSON lines, a batch at a time (streamed:
    memory stays flat however many events match). Formatting is the audit package's own
    (``gateway.audit.formatters``: client text escaped, CSV cells guarded against formulas)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"unknown export format '{fmt}' (use {' or '.join(EXPORT_FORMATS)})")
    wanted = scoped(actor, wanted)
    after: int | None = None
    first = True
    while True:
        page = search(store, actor, wanted, newest_first=False, after=after, page_size=EXPORT_BATCH)
        if page.records or first:
            buffer = io.StringIO()
            write_export(buffer, page.records, format=fmt)
            text = buffer.getvalue()
            if fmt == "csv" and not first:
                text = text.split("\n", 1)[1]  # the header once, at the top
            yield text
        first = False
        if page.next_after is None:
            return
        after = page.next_after


def verify_chain(store: MetadataStore, actor: Actor) -> ChainStatus:
    """Walk the whole keyed chain and every signed checkpoint now, and keep the result (who, when,
    what it found), so the portal can say when it was last verified. A good result is also sealed
    as a signed checkpoint, which a database writer cannot forge (``gateway.audit``)."""
    scoped(actor, AuditFilter())
    check = store.audit_log().verify(record_success=True)
    now = store.now()
    with store.database.write() as session:
        session.add(AuditVerificationRow(verified_at=now, verified_by=actor.login, ok=check.ok, checked=check.checked,
                                         problem=check.problem))
    return ChainStatus(check.ok, check.checked, check.problem, now, actor.login, trail=check)


def last_verification(store: MetadataStore, actor: Actor) -> ChainStatus | None:
    scoped(actor, AuditFilter())
    with store.database.read() as session:
        row = session.scalars(sa.select(AuditVerificationRow).order_by(AuditVerificationRow.id.desc()).limit(1)).first()
    if row is None:
        return None
    return ChainStatus(row.ok, row.checked, row.problem, row.verified_at, row.verified_by)
