"""What the audit trail records, and the one constructor per kind of event.

Vault-style: a door never assembles an :class:`AuditEvent` field by field. Every request a
door answers (GraphQL, XMLA, downloads, an identity refusal in front of them) becomes an
event through :func:`request_event`; every control-plane change through :func:`admin_event`.
Field names and order are the audit record format, a stable public interface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gateway.principal import Principal

Outcome = Literal["served", "denied", "failed", "refused"]
OUTCOMES: tuple[str, ...] = ("served", "denied", "failed", "refused")

# Fields that may carry text a client chose (escaped in every human-readable output).
TEXT_FIELDS = ("login", "cert_fingerprint", "kommune_kode", "client_address", "operation", "database", "query", "reason")

# the longest query text an audit event keeps (a statement, a document with its variables)
MAX_AUDITED_QUERY_CHARS = 8000


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One request or change as the trail records it."""

    time: dt.datetime  # timezone-aware; stored as UTC with microseconds
    login: str | None  # None when no principal was resolved
    cert_fingerprint: str | None
    kommune_kode: str | None
    client_address: str | None
    operation: str  # e.g. 'discover', 'execute', 'admin.grant.add'
    database: str | None  # canonical name when the name resolves; else as the client wrote it
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
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) and "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", "\\x00"))


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def request_event(
    principal: Principal | None,
    *,
    client_address: str | None,
    operation: str,
    outcome: Outcome,
    database: str | None = None,
    query: str | None = None,
    reason: str | None = None,
    cells: int | None = None,
    duration_ms: float | None = None,
    request_id: str | None = None,
    cert_fingerprint: str | None = None,
    owner: tuple[str, str | None] | None = None,
    time: dt.datetime | None = None,
) -> AuditEvent:
    """The event for one request through any door.

    ``principal`` is None when identity refused the request; ``cert_fingerprint`` then names
    the certificate that was presented (if any), and ``owner`` the (login, kommune) it was issued
    to, if the store knows it. With a principal, who asked comes from it.
    """
    return AuditEvent(
        time=time or _now(),
        login=principal.login if principal else (owner[0] if owner else None),
        cert_fingerprint=principal.cert_fingerprint if principal else cert_fingerprint,
        kommune_kode=principal.kommune_kode if principal else (owner[1] if owner else None),
        client_address=client_address,
        operation=operation,
        database=database,
        query=query,
        outcome=outcome,
        reason=reason,
        cells=cells,
        duration_ms=duration_ms,
        request_id=request_id,
    )


def operator_event(
    actor_login: str,
    *,
    operation: str,
    kommune_kode: str | None,
    database: str | None,
    query: str,
    cells: int | None = None,
    duration_ms: float | None = None,
    time: dt.datetime | None = None,
) -> AuditEvent:
    """The event for one read an operator made from the command line (e.g. ``datapakke.export``):
    no certificate, no client address; the shell user is the login."""
    return request_event(
        None,
        client_address=None,
        operation=operation,
        outcome="served",
        database=database,
        query=query,
        cells=cells,
        duration_ms=duration_ms,
        owner=(actor_login, kommune_kode),
        time=time,
    )


def admin_event(
    actor_login: str | None,
    *,
    operation: str,
    kommune_kode: str | None,
    detail: str,
    time: dt.datetime,
    database: str | None = None,
    reason: str | None = None,
    outcome: Outcome = "served",
) -> AuditEvent:
    """The event for one control-plane change (``operation`` is ``admin.*``); ``detail`` says what
    changed, ``database`` the database it concerns (access explained), ``reason`` why or from where.
    A refused change is ``outcome='denied'`` with ``reason`` saying why; ``actor_login`` is None
    only for a refused portal login where nobody could be named."""
    if not operation.startswith("admin."):
        raise ValueError(f"an administrative event's operation starts with 'admin.', got {operation!r}")
    return AuditEvent(
        time=time,
        login=actor_login,
        cert_fingerprint=None,
        kommune_kode=kommune_kode,
        client_address=None,
        operation=operation,
        database=database,
        query=detail,
        outcome=outcome,
        reason=reason,
    )
