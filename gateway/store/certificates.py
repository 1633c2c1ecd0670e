"""Client certificates as the gateway knows them: which fingerprint belongs to which user, until when."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store import users
from gateway.store.errors import ConflictError, RecordNotFoundError, ValidationError
from gateway.store.rules import bump_revision, may_see, require_manage
from gateway.store.tables import CertificateRow, UserRow
from gateway.store.views import Actor, CertificateView

_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def _view(row: CertificateRow, user: UserRow) -> CertificateView:
    return CertificateView(
        id=row.id,
        user_id=row.user_id,
        login=user.login,
        serial=int(row.serial),
        fingerprint=row.fingerprint,
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
    )


def record(
    session: Session,
    actor: Actor,
    *,
    login: str,
    serial: int,
    fingerprint: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    now: dt.datetime,
) -> CertificateView:
    fingerprint = fingerprint.strip().lower().replace(":", "")
    if not _FINGERPRINT.match(fingerprint):
        raise ValidationError("certificate fingerprint must be 64 hex digits (SHA-256 of the DER certificate)")
    if serial <= 0:
        raise ValidationError("certificate serial must be a positive number")
    if not_after <= not_before:
        raise ValidationError("certificate not_after must be after not_before")
    bump_revision(session)
    user = users.find(session, actor, login, for_update=True)
    require_manage(actor, user.kommune_kode)
    if user.status != users.ACTIVE:
        raise ValidationError(f"user '{user.login}' is {user.status}; activate the user before issuing certificates", code="USER_NOT_ACTIVE")
    clash = session.scalars(
        sa.select(CertificateRow.id).where(
            sa.or_(CertificateRow.fingerprint == fingerprint, CertificateRow.serial == str(serial))
        )
    ).first()
    if clash is not None:
        raise ConflictError(f"a certificate with serial {serial} or fingerprint {fingerprint[:16]}… is already recorded")
    row = CertificateRow(
        user_id=user.id,
        serial=str(serial),
        fingerprint=fingerprint,
        not_before=not_before,
        not_after=not_after,
        issued_at=now,
        issued_by=actor.login,
    )
    session.add(row)
    session.flush()
    return _view(row, user)


def get_by_serial(session: Session, actor: Actor, serial: int) -> CertificateView:
    found = session.execute(
        sa.select(CertificateRow, UserRow)
        .join(UserRow, CertificateRow.user_id == UserRow.id)
        .where(CertificateRow.serial == str(serial))
    ).one_or_none()
    if found is None or not may_see(actor, found[1].kommune_kode):
        raise RecordNotFoundError(f"no certificate with serial {serial}")
    return _view(*found)


def revoke(session: Session, actor: Actor, serial: int, *, reason: str, now: dt.datetime) -> CertificateView:
    if not reason.strip():
        raise ValidationError("give a reason for revoking the certificate")
    bump_revision(session)
    found = session.execute(
        sa.select(CertificateRow, UserRow)
        .join(UserRow, CertificateRow.user_id == UserRow.id)
        .where(CertificateRow.serial == str(serial))
    ).one_or_none()
    if found is None or not may_see(actor, found[1].kommune_kode):
        raise RecordNotFoundError(f"no certificate with serial {serial}")
    row, user = found
    require_manage(actor, user.kommune_kode)
    if row.revoked_at is not None:
        raise ConflictError(f"certificate {serial} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC", code="CERTIFICATE_REVOKED")
    row.revoked_at = now
    row.revocation_reason = reason.strip()
    row.revoked_by = actor.login
    session.flush()
    return _view(row, user)


def list_for(session: Session, actor: Actor, login: str) -> list[CertificateView]:
    user = users.find(session, actor, login)
    rows = session.scalars(
        sa.select(CertificateRow).where(CertificateRow.user_id == user.id).order_by(CertificateRow.issued_at, CertificateRow.id)
    )
    return [_view(row, user) for row in rows]


def list_all(session: Session, actor: Actor) -> list[CertificateView]:
    """Every certificate the actor may see (all of them for an operator), in issue order."""
    found = session.execute(
        sa.select(CertificateRow, UserRow)
        .join(UserRow, CertificateRow.user_id == UserRow.id)
        .order_by(CertificateRow.issued_at, CertificateRow.id)
    )
    return [_view(row, user) for row, user in found if may_see(actor, user.kommune_kode)]


def list_expiring(session: Session, actor: Actor, *, now: dt.datetime, before: dt.datetime) -> list[CertificateView]:
    """Unrevoked certificates still valid now that expire before ``before``, soonest first."""
    rows = session.execute(
        sa.select(CertificateRow, UserRow)
        .join(UserRow, CertificateRow.user_id == UserRow.id)
        .where(CertificateRow.revoked_at.is_(None), CertificateRow.not_after > now, CertificateRow.not_after <= before)
        .order_by(CertificateRow.not_after, CertificateRow.id)
    )
    return [_view(row, user) for row, user in rows if may_see(actor, user.kommune_kode)]
