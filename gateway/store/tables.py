"""ORM models of the metadata store. The migrations in ``migrations/versions`` create exactly these."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

GENESIS_HASH = "0" * 64


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC on every backend, always handed back timezone-aware (UTC).

    Naive datetimes are refused on the way in: a wall-clock time of unknown zone in a grant's
    validity window is a bug waiting to happen.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; use timezone-aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class KommuneRow(Base):
    __tablename__ = "kommuner"

    kode: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    navn: Mapped[str] = mapped_column(sa.String(100))
    region: Mapped[str] = mapped_column(sa.String(50))
    onboarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    onboarded_by: Mapped[str | None] = mapped_column(sa.String(256))


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("status in ('active', 'suspended')", name="ck_users_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommune_kode: Mapped[str] = mapped_column(sa.ForeignKey("kommuner.kode"), index=True)
    login: Mapped[str] = mapped_column(sa.String(256), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(256))
    roles: Mapped[str] = mapped_column(sa.String(200))  # comma-separated Role values, sorted
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(sa.String(256))

    kommune: Mapped[KommuneRow] = relationship()


class CertificateRow(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    serial: Mapped[str] = mapped_column(sa.String(64), unique=True)  # decimal; x509 serials exceed BIGINT
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(sa.String(256))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_by: Mapped[str | None] = mapped_column(sa.String(256))

    user: Mapped[UserRow] = relationship()


class GrantRow(Base):
    __tablename__ = "grants"
    __table_args__ = (
        sa.CheckConstraint("level in ('aggregated', 'individual')", name="ck_grants_level"),
        sa.CheckConstraint("valid_to is null or valid_to > valid_from", name="ck_grants_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    area: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(sa.String(16))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(sa.Text())
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(sa.String(256))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(sa.String(256))
    # four-eyes: an individual-level grant counts only once a second officer approved it
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(sa.String(256))

    user: Mapped[UserRow] = relationship()


class PortalSessionRow(Base):
    """A logged-in portal session, server-side so that every worker sees it and logout ends it.

    ``id`` is the SHA-256 of the cookie's token: a leaked table does not hand out sessions.
    """

    __tablename__ = "portal_sessions"
    __table_args__ = (sa.CheckConstraint("method in ('certificate', 'oidc')", name="ck_portal_sessions_method"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(16))
    cert_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    oidc_id_token: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PortalDownloadRow(Base):
    """A file offered once to one session (a freshly issued PKCS#12); deleted when fetched."""

    __tablename__ = "portal_downloads"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("portal_sessions.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(256))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RevisionRow(Base):
    """One row (id 1). Bumped in the same transaction as any change identity depends on."""

    __tablename__ = "identity_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger())


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    # the auditor's search: an equality filter and a period, in time order, one page at a time
    __table_args__ = (
        sa.Index("ix_audit_events_time_seq", "time", "seq"),
        *(
            sa.Index(f"ix_audit_events_{column}_time", column, "time", "seq")
            for column in ("kommune_kode", "login", "database", "operation", "outcome")
        ),
    )

    seq: Mapped[int] = mapped_column(sa.BigInteger(), primary_key=True, autoincrement=False)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    login: Mapped[str | None] = mapped_column(sa.Text(), index=True)
    cert_fingerprint: Mapped[str | None] = mapped_column(sa.Text())
    kommune_kode: Mapped[str | None] = mapped_column(sa.Text())
    # Text, not String(n): an over-long value must never make the audit write (and so the request) fail.
    client_address: Mapped[str | None] = mapped_column(sa.Text())
    operation: Mapped[str] = mapped_column(sa.Text())
    database: Mapped[str | None] = mapped_column(sa.Text(), index=True)
    query: Mapped[str | None] = mapped_column(sa.Text())
    outcome: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text())
    cells: Mapped[int | None] = mapped_column(sa.BigInteger())
    duration_ms: Mapped[float | None] = mapped_column(sa.Float())
    request_id: Mapped[str | None] = mapped_column(sa.Text())
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # the audit key generation the hash was made with (gateway.audit.keys); None before keys
    key_id: Mapped[str | None] = mapped_column(sa.String(64))


class AuditVerificationRow(Base):
    """One walk of the audit chain: when, by whom, and what it found (the portal shows the last)."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    verified_by: Mapped[str] = mapped_column(sa.String(256))
    ok: Mapped[bool] = mapped_column(sa.Boolean())
    checked: Mapped[int] = mapped_column(sa.BigInteger())
    problem: Mapped[str | None] = mapped_column(sa.Text())


class AuditChainHeadRow(Base):
    """One row (id 1): the last sequence number and hash. Writers lock it; truncation shows here."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger())
    hash: Mapped[str] = mapped_column(sa.String(64))


class RefreshRunRow(Base):
    """One ``dataadgang refresh`` run: when, what it changed, what failed (``report`` is JSON)."""

    __tablename__ = "refresh_runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16))  # running | unchanged | changed | partial | failed
    started_by: Mapped[str] = mapped_column(sa.String(256))
    drop_dir: Mapped[str] = mapped_column(sa.Text())
    changed: Mapped[int] = mapped_column(sa.Integer(), default=0)
    unchanged: Mapped[int] = mapped_column(sa.Integer(), default=0)
    failed: Mapped[int] = mapped_column(sa.Integer(), default=0)
    rows: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    report: Mapped[str | None] = mapped_column(sa.Text())


class RefreshInputRow(Base):
    """Per database: the input its current version was built from, and how the last try went."""

    __tablename__ = "refresh_inputs"

    database: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    loaded_hash: Mapped[str | None] = mapped_column(sa.String(64))  # content hash of the input now serving
    loaded_version: Mapped[int | None] = mapped_column(sa.Integer())
    loaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[str] = mapped_column(sa.String(16))  # loaded | failed
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    failed_hash: Mapped[str | None] = mapped_column(sa.String(64))  # the input that failed, not retried unchanged
    last_run_id: Mapped[int | None] = mapped_column(sa.Integer())


class XmlaSessionRow(Base):
    """An open XMLA session (BeginSession .. EndSession), owned by the certificate that opened it.

    Kept here, not in a worker's memory, so any gateway worker can continue it.
    """

    __tablename__ = "xmla_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # random, 128 bits, hex
    cert_fingerprint: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
