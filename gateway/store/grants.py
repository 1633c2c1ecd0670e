"""Grants: a user may use a data area at a level within a validity window, until revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.access import LEVELS, GrantView
from gateway.store import users
from gateway.store.errors import ConflictError, RecordNotFoundError, ValidationError
from gateway.store.rules import bump_revision, may_see, require_manage
from gateway.store.tables import GrantRow, UserRow
from gateway.store.views import Actor, GrantInfo


def _info(row: GrantRow, user: UserRow) -> GrantInfo:
    return GrantInfo(
        id=row.id,
        user_id=row.user_id,
        login=user.login,
        kommune_kode=user.kommune_kode,
        area=row.area,
        level=row.level,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        purpose=row.purpose,
        granted_at=row.granted_at,
        granted_by=row.granted_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


def add(
    session: Session,
    actor: Actor,
    *,
    login: str,
    area: str,
    valid_areas: Collection[str],
    purpose: str,
    level: str = "aggregated",
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
    now: dt.datetime,
) -> GrantInfo:
    if area not in valid_areas:
        known = ", ".join(sorted(valid_areas)) or "none defined"
        raise ValidationError(f"unknown data area '{area}' (known: {known})")
    if level not in LEVELS:
        raise ValidationError(f"unknown grant level '{level}' (use {' or '.join(LEVELS)})")
    if not purpose.strip():
        raise ValidationError("a grant needs a purpose (why this user needs the data)")
    start = now if valid_from is None else valid_from
    if valid_to is not None and valid_to <= start:
        raise ValidationError(
            f"valid_to {valid_to.isoformat()} must be after valid_from {start.isoformat()}"
        )
    if valid_to is not None and valid_to <= now:
        raise ValidationError(f"valid_to {valid_to.isoformat()} is already past; the grant would never apply")
    bump_revision(session)
    user = users.find(session, actor, login, for_update=True)
    require_manage(actor, user.kommune_kode)
    if user.status != users.ACTIVE:
        raise ValidationError(f"user '{user.login}' is {user.status}; activate the user before granting")
    row = GrantRow(
        user_id=user.id,
        area=area,
        level=level,
        valid_from=start,
        valid_to=valid_to,
        purpose=purpose.strip(),
        granted_at=now,
        granted_by=actor.login,
    )
    session.add(row)
    session.flush()
    return _info(row, user)


def revoke(session: Session, actor: Actor, grant_id: int, *, now: dt.datetime) -> GrantInfo:
    bump_revision(session)
    found = session.execute(
        sa.select(GrantRow, UserRow).join(UserRow, GrantRow.user_id == UserRow.id).where(GrantRow.id == grant_id)
    ).one_or_none()
    if found is None or not may_see(actor, found[1].kommune_kode):
        raise RecordNotFoundError(f"no grant #{grant_id}")
    row, user = found
    require_manage(actor, user.kommune_kode)
    if row.revoked_at is not None:
        raise ConflictError(f"grant #{grant_id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    row.revoked_at = now
    row.revoked_by = actor.login
    session.flush()
    return _info(row, user)


def list_grants(
    session: Session,
    actor: Actor,
    *,
    login: str | None = None,
    kommune_kode: str | None = None,
    include_revoked: bool = True,
) -> list[GrantInfo]:
    query = sa.select(GrantRow, UserRow).join(UserRow, GrantRow.user_id == UserRow.id).order_by(GrantRow.id)
    if login is not None:
        query = query.where(UserRow.id == users.find(session, actor, login).id)
    if kommune_kode is not None:
        query = query.where(UserRow.kommune_kode == kommune_kode)
    if not include_revoked:
        query = query.where(GrantRow.revoked_at.is_(None))
    return [_info(row, user) for row, user in session.execute(query) if may_see(actor, user.kommune_kode)]


def for_user(session: Session, user_id: int) -> tuple[GrantView, ...]:
    """Every unrevoked grant of the user (the validity window is judged by access at request time)."""
    rows = session.scalars(
        sa.select(GrantRow).where(GrantRow.user_id == user_id, GrantRow.revoked_at.is_(None)).order_by(GrantRow.id)
    )
    return tuple(
        GrantView(
            id=row.id,
            user_id=row.user_id,
            area=row.area,
            level=row.level,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            revoked_at=row.revoked_at,
        )
        for row in rows
    )
