"""Grants: a user may use a data area at a level within a validity window, until revoked.

Individual-level (person data) grants follow four-eyes: they are written *awaiting approval*
and count for access only once a second officer (or operator) of the kommune approved them;
their validity is bounded (``max_individual_validity``, default 12 months).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.access import LEVELS, GrantView

INDIVIDUAL = "individual"
DEFAULT_MAX_INDIVIDUAL_VALIDITY = dt.timedelta(days=365)
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
        approved_at=row.approved_at,
        approved_by=row.approved_by,
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
    max_individual_validity: dt.timedelta = DEFAULT_MAX_INDIVIDUAL_VALIDITY,
) -> GrantInfo:
    if area not in valid_areas:
        known = ", ".join(sorted(valid_areas)) or "none defined"
        raise ValidationError(f"unknown data area '{area}' (known: {known})", code="UNKNOWN_AREA")
    if level not in LEVELS:
        raise ValidationError(f"unknown grant level '{level}' (use {' or '.join(LEVELS)})", code="UNKNOWN_LEVEL")
    if not purpose.strip():
        raise ValidationError("a grant needs a purpose (why this user needs the data)", code="PURPOSE_MISSING")
    start = now if valid_from is None else valid_from
    if valid_to is not None and valid_to <= start:
        raise ValidationError(
            f"valid_to {valid_to.isoformat()} must be after valid_from {start.isoformat()}", code="VALIDITY_ORDER"
        )
    if valid_to is not None and valid_to <= now:
        raise ValidationError(f"valid_to {valid_to.isoformat()} is already past; the grant would never apply", code="VALIDITY_PAST")
    if level == INDIVIDUAL:
        longest = start + max_individual_validity
        if valid_to is None:
            valid_to = longest
        elif valid_to > longest:
            raise ValidationError(
                f"an individual-level grant may last at most {max_individual_validity.days} days "
                f"(until {longest:%Y-%m-%d}); ask again when it needs renewing",
                code="INDIVIDUAL_TOO_LONG",
            )
    bump_revision(session)
    user = users.find(session, actor, login, for_update=True)
    require_manage(actor, user.kommune_kode)
    if user.status != users.ACTIVE:
        raise ValidationError(f"user '{user.login}' is {user.status}; activate the user before granting", code="USER_NOT_ACTIVE")
    row = GrantRow(
        user_id=user.id,
        area=area,
        level=level,
        valid_from=start,
        valid_to=valid_to,
        purpose=purpose.strip(),
        granted_at=now,
        granted_by=actor.login,
        approved_at=None if level == INDIVIDUAL else now,
        approved_by=None if level == INDIVIDUAL else actor.login,
    )
    session.add(row)
    session.flush()
    return _info(row, user)


def _find(session: Session, actor: Actor, grant_id: int) -> tuple[GrantRow, UserRow]:
    """The grant if the actor may see it; another kommune's grant is 'no such grant'."""
    found = session.execute(
        sa.select(GrantRow, UserRow).join(UserRow, GrantRow.user_id == UserRow.id).where(GrantRow.id == grant_id)
    ).one_or_none()
    if found is None or not may_see(actor, found[1].kommune_kode):
        raise RecordNotFoundError(f"no grant #{grant_id}")
    return found[0], found[1]


def get(session: Session, actor: Actor, grant_id: int) -> GrantInfo:
    return _info(*_find(session, actor, grant_id))


def approve(session: Session, actor: Actor, grant_id: int, *, now: dt.datetime) -> GrantInfo:
    """The second pair of eyes: anyone who may manage the kommune, except who granted it."""
    bump_revision(session)
    row, user = _find(session, actor, grant_id)
    require_manage(actor, user.kommune_kode)
    if row.revoked_at is not None:
        raise ConflictError(f"grant #{grant_id} was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC", code="GRANT_REVOKED")
    if row.approved_at is not None:
        raise ConflictError(f"grant #{grant_id} needs no approval (approved by {row.approved_by})", code="GRANT_APPROVED")
    if row.granted_by == actor.login:
        raise ValidationError(f"grant #{grant_id} must be approved by another officer than '{actor.login}', who granted it", code="FOUR_EYES")
    row.approved_at = now
    row.approved_by = actor.login
    session.flush()
    return _info(row, user)


def revoke(session: Session, actor: Actor, grant_id: int, *, now: dt.datetime) -> GrantInfo:
    bump_revision(session)
    row, user = _find(session, actor, grant_id)
    require_manage(actor, user.kommune_kode)
    if row.revoked_at is not None:
        raise ConflictError(f"grant #{grant_id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC", code="GRANT_REVOKED")
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
    awaiting_approval: bool = False,
    expiring_before: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[GrantInfo]:
    """Grants the actor may see; ``expiring_before`` (with ``now``) keeps those still in force
    that end before it: the recertification list."""
    query = sa.select(GrantRow, UserRow).join(UserRow, GrantRow.user_id == UserRow.id).order_by(GrantRow.id)
    if awaiting_approval:
        query = query.where(GrantRow.approved_at.is_(None), GrantRow.revoked_at.is_(None))
    if expiring_before is not None:
        if now is None:
            raise ValueError("expiring_before needs now")
        query = query.where(
            GrantRow.revoked_at.is_(None), GrantRow.valid_to.is_not(None), GrantRow.valid_to > now,
            GrantRow.valid_to <= expiring_before,
        ).order_by(None).order_by(GrantRow.valid_to, GrantRow.id)
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
            approved=row.approved_at is not None,
        )
        for row in rows
    )
