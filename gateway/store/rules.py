"""Shared rules of the control plane: who may act on which kommune, login syntax, the revision bump."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.principal import Role
from gateway.store.errors import ForbiddenError, ValidationError
from gateway.store.tables import RevisionRow
from gateway.store.views import Actor

# domain\user, as Windows shows it: 'komb-fli-prod\kl_pri'. Case-insensitive; stored lowercase.
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}\\[a-z0-9][a-z0-9._-]{0,62}$")
# A login may name its kommune: 'komb-fli-prod\k147_jens' belongs to kommune 147 and no other.
_KOMMUNE_SCOPED = re.compile(r"^k(\d{3})_")


def normalise_login(login: str) -> str:
    return login.strip().lower()


def check_login(login: str, kommune_kode: str) -> str:
    """Return the normalised login, or raise ValidationError saying what is wrong with it."""
    normalised = normalise_login(login)
    if not _LOGIN.match(normalised):
        raise ValidationError(
            f"login '{login}' is not of the form domain\\user (e.g. 'komb-fli-prod\\kl_pri'): "
            "letters, digits, '.', '-' in the domain; also '_' in the user part",
            code="LOGIN_FORMAT",
        )
    user_part = normalised.split("\\", 1)[1]
    scoped = _KOMMUNE_SCOPED.match(user_part)
    if scoped is not None and scoped.group(1) != kommune_kode:
        raise ValidationError(
            f"login '{login}' is in kommune {scoped.group(1)}'s format and cannot belong to kommune {kommune_kode}",
            code="LOGIN_KOMMUNE",
        )
    return normalised


def may_manage(actor: Actor, kommune_kode: str) -> bool:
    """Operators manage every kommune; a security officer only their own."""
    if actor.is_operator:
        return True
    return Role.SECURITY_OFFICER in actor.roles and actor.kommune_kode == kommune_kode


def require_manage(actor: Actor, kommune_kode: str) -> None:
    if not may_manage(actor, kommune_kode):
        if Role.SECURITY_OFFICER in actor.roles:
            raise ForbiddenError(
                f"'{actor.login}' may manage only users of kommune {actor.kommune_kode}, not of kommune {kommune_kode}"
            )
        raise ForbiddenError(f"'{actor.login}' is neither an operator nor a security officer")


def may_see(actor: Actor, kommune_kode: str) -> bool:
    """Operators see all; security officers and auditors see their own kommune."""
    if actor.is_operator:
        return True
    return bool(actor.roles & {Role.SECURITY_OFFICER, Role.AUDITOR}) and actor.kommune_kode == kommune_kode


def require_operator(actor: Actor, what: str) -> None:
    if not actor.is_operator:
        raise ForbiddenError(f"only operators may {what}")


def check_assignable_roles(actor: Actor, roles: frozenset[Role]) -> None:
    if Role.OPERATOR in roles and not actor.is_operator:
        raise ForbiddenError("only operators may give the operator role", code="OPERATOR_ROLE")
    if not roles:
        raise ValidationError("a user needs at least one role", code="NO_ROLE")


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(part) for part in text.split(",") if part)


def format_roles(roles: frozenset[Role]) -> str:
    return ",".join(sorted(role.value for role in roles))


def bump_revision(session: Session) -> None:
    """Tell every process's identity cache that something changed; same transaction as the change.

    Done first in a write so that on PostgreSQL the row lock also serialises concurrent writers.
    """
    session.execute(sa.update(RevisionRow).where(RevisionRow.id == 1).values(value=RevisionRow.value + 1))
