"""Users of a kommune: created, suspended and re-activated by operators or the kommune's own officer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.principal import Role
from gateway.store import kommuner
from gateway.store.errors import ConflictError, RecordNotFoundError, ValidationError
from gateway.store.rules import (
    bump_revision,
    check_assignable_roles,
    check_login,
    format_roles,
    may_see,
    normalise_login,
    parse_roles,
    require_manage,
)
from gateway.store.tables import UserRow
from gateway.store.views import Actor, UserView

ACTIVE = "active"
SUSPENDED = "suspended"


def view(row: UserRow) -> UserView:
    return UserView(
        id=row.id,
        kommune_kode=row.kommune_kode,
        login=row.login,
        display_name=row.display_name,
        roles=parse_roles(row.roles),
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def find(session: Session, actor: Actor, login: str, *, for_update: bool = False) -> UserRow:
    """The user named ``login`` if the actor may see them; another kommune's user is 'no such user'."""
    query = sa.select(UserRow).where(UserRow.login == normalise_login(login))
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None or not may_see(actor, row.kommune_kode):
        raise RecordNotFoundError(f"no user '{login}'")
    return row


def find_by_id(session: Session, actor: Actor, user_id: int) -> UserRow:
    """Like :func:`find`, by id: another kommune's user and a missing one are the same 'no such user'."""
    row = session.get(UserRow, user_id)
    if row is None or not may_see(actor, row.kommune_kode):
        raise RecordNotFoundError("no such user")
    return row


def add(
    session: Session,
    actor: Actor,
    *,
    kommune_kode: str,
    login: str,
    display_name: str = "",
    roles: frozenset[Role] = frozenset({Role.USER}),
    now: dt.datetime,
) -> UserView:
    kommune = kommuner.get(session, kommune_kode)
    require_manage(actor, kommune.kode)
    check_assignable_roles(actor, roles)
    if kommune.onboarded_at is None:
        raise ValidationError(f"kommune {kommune.kode} {kommune.navn} is not onboarded yet; onboard it before adding users", code="NOT_ONBOARDED")
    normalised = check_login(login, kommune.kode)
    bump_revision(session)
    existing = session.scalars(sa.select(UserRow.kommune_kode).where(UserRow.login == normalised)).one_or_none()
    if existing is not None:
        raise ConflictError(f"login '{normalised}' is already taken", code="LOGIN_TAKEN")
    row = UserRow(
        kommune_kode=kommune.kode,
        login=normalised,
        display_name=display_name.strip() or normalised,
        roles=format_roles(roles),
        status=ACTIVE,
        created_at=now,
        created_by=actor.login,
    )
    session.add(row)
    session.flush()
    return view(row)


def set_status(session: Session, actor: Actor, login: str, status: str) -> UserView:
    if status not in (ACTIVE, SUSPENDED):
        raise ValidationError(f"unknown user status '{status}'")
    bump_revision(session)
    row = find(session, actor, login, for_update=True)
    require_manage(actor, row.kommune_kode)
    if row.status == status:
        raise ConflictError(f"user '{row.login}' is already {status}", code="STATUS_UNCHANGED")
    row.status = status
    session.flush()
    return view(row)


def set_roles(session: Session, actor: Actor, login: str, roles: frozenset[Role]) -> UserView:
    check_assignable_roles(actor, roles)
    bump_revision(session)
    row = find(session, actor, login, for_update=True)
    require_manage(actor, row.kommune_kode)
    if Role.OPERATOR in parse_roles(row.roles) and not actor.is_operator:
        raise ValidationError("only operators may change an operator's roles", code="OPERATOR_ROLES")
    row.roles = format_roles(roles)
    session.flush()
    return view(row)


def list_users(session: Session, actor: Actor, *, kommune_kode: str | None = None) -> list[UserView]:
    query = sa.select(UserRow).order_by(UserRow.kommune_kode, UserRow.login)
    if kommune_kode is not None:
        kommuner.get(session, kommune_kode)
        query = query.where(UserRow.kommune_kode == kommune_kode)
    return [view(row) for row in session.scalars(query) if may_see(actor, row.kommune_kode)]
