"""The one function that decides access: (principal, database, action, grants, now) -> Decision.

Discover and Execute both call :func:`decide`; nothing else decides access. Deny beats allow:
every rule must hold, and the first that fails names the reason. The reason is for the audit
trail only; clients always get the uniform :class:`gateway.errors.AccessDeniedError`, whether the
database is forbidden or does not exist.

An allowing decision also says what the caller may see: the granted ``level`` and the
``disclosure`` policy. Exact, person-level answers only come with an individual grant in the
user's own kommune's database; a benchmark database holds other kommuner's citizens, so every
reader gets disclosure control there (DOMAIN.md, "Disclosure policy"). The service layer turns
the decision into the caller's view of the cubes, which is the only enforcement of both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from gateway.errors import InternalError
from gateway.principal import Principal

if TYPE_CHECKING:
    from gateway.model.catalog import DatabaseRef

LEVELS = ("aggregated", "individual")


class Action(str, Enum):
    DISCOVER = "discover"  # see the database in catalog lists and read its metadata
    EXECUTE = "execute"  # run cube queries


class Disclosure(str, Enum):
    """What the caller's answers are: exact (person-level detail visible), or protected."""

    EXACT = "exact"
    PROTECTED = "protected"


class UnknownActionError(InternalError):
    """A caller asked about an action this module does not know: a bug, never a silent allow."""


@dataclass(frozen=True, slots=True)
class GrantView:
    """One grant as access sees it; built by the store at request time."""

    id: int
    user_id: int
    area: str
    level: str  # 'aggregated' | 'individual'
    valid_from: dt.datetime
    valid_to: dt.datetime | None  # exclusive; None = open-ended
    revoked_at: dt.datetime | None = None
    approved: bool = True  # False while an individual-level grant awaits its second officer (four-eyes)

    def active_at(self, now: dt.datetime) -> bool:
        if self.revoked_at is not None or not self.approved:
            return False
        if now < self.valid_from:
            return False
        return self.valid_to is None or now < self.valid_to


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str  # for the audit trail only; never shown to the client
    level: str | None = None  # the granted level when allowed: 'aggregated' | 'individual'
    disclosure: Disclosure = Disclosure.PROTECTED  # exact only with an individual grant at home

    @property
    def person_level(self) -> bool:
        """May the caller see person-level detail (levels such as Personnummer, exact counts)?"""
        return self.allowed and self.disclosure is Disclosure.EXACT


def _deny(reason: str) -> Decision:
    return Decision(allowed=False, reason=reason)


def decide(
    principal: Principal | None,
    database: DatabaseRef | None,
    action: Action,
    grants: Sequence[GrantView],
    *,
    now: dt.datetime,
) -> Decision:
    """Allow only when every rule holds; the reason of a denial names the first rule that failed."""
    if not isinstance(action, Action):
        raise UnknownActionError(f"unknown access action {action!r}")
    if now.tzinfo is None:
        raise ValueError("decide() needs a timezone-aware 'now'")
    if principal is None:
        return _deny("no authenticated principal")
    if now >= principal.cert_not_after:
        return _deny(f"certificate {principal.cert_fingerprint[:16]} expired at {principal.cert_not_after.isoformat()}")
    if database is None:
        return _deny("no such database")
    if database.kommune_kode is not None and database.kommune_kode != principal.kommune_kode:
        return _deny(f"database '{database.name}' belongs to kommune {database.kommune_kode}, user is of {principal.kommune_kode}")
    active = [
        grant
        for grant in grants
        if grant.user_id == principal.user_id and grant.area == database.area and grant.active_at(now)
    ]
    if not active:
        return _deny(f"no active grant for area '{database.area}'")
    individual = [grant for grant in active if grant.level == "individual"]
    chosen = min(individual or active, key=lambda grant: grant.id)
    exact = chosen.level == "individual" and database.kommune_kode is not None
    disclosure = Disclosure.EXACT if exact else Disclosure.PROTECTED
    return Decision(
        allowed=True,
        reason=f"grant #{chosen.id} ({chosen.level}) for area '{database.area}', {disclosure.value} answers",
        level=chosen.level,
        disclosure=disclosure,
    )
