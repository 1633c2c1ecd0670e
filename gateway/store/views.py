"""Immutable views of store rows, and the actor performing a change. Nothing mutable leaves the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.access import GrantView
from gateway.principal import Principal, Role


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a control-plane action; written into created_by/granted_by/revoked_by.

    ``kommune_kode`` is None only for operators (the service provider), who act on every kommune.
    """

    login: str
    roles: frozenset[Role]
    kommune_kode: str | None = None

    @classmethod
    def operator(cls, login: str) -> Actor:
        return cls(login=login, roles=frozenset({Role.OPERATOR}), kommune_kode=None)

    @classmethod
    def from_principal(cls, principal: Principal) -> Actor:
        return cls(login=principal.login, roles=principal.roles, kommune_kode=principal.kommune_kode)

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles


@dataclass(frozen=True, slots=True)
class KommuneView:
    kode: str
    navn: str
    region: str
    onboarded_at: dt.datetime | None

    @property
    def onboarded(self) -> bool:
        return self.onboarded_at is not None


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    kommune_kode: str
    login: str
    display_name: str
    roles: frozenset[Role]
    status: str  # 'active' | 'suspended'
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class CertificateView:
    id: int
    user_id: int
    login: str
    serial: int
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime
    issued_at: dt.datetime
    issued_by: str
    revoked_at: dt.datetime | None
    revocation_reason: str | None

    def status(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if now < self.not_before:
            return "not yet valid"
        if now >= self.not_after:
            return "expired"
        return "valid"


@dataclass(frozen=True, slots=True)
class GrantInfo:
    """A grant with its history, for listings; ``access_view()`` is what access decides on."""

    id: int
    user_id: int
    login: str
    kommune_kode: str
    area: str
    level: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    purpose: str
    granted_at: dt.datetime
    granted_by: str
    revoked_at: dt.datetime | None
    revoked_by: str | None
    approved_at: dt.datetime | None = None
    approved_by: str | None = None

    @property
    def awaiting_approval(self) -> bool:
        """Four-eyes: an individual-level grant counts only once a second officer approved it."""
        return self.approved_at is None and self.revoked_at is None

    def access_view(self) -> GrantView:
        return GrantView(
            id=self.id,
            user_id=self.user_id,
            area=self.area,
            level=self.level,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            revoked_at=self.revoked_at,
            approved=self.approved_at is not None,
        )

    def status(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.approved_at is None:
            return "awaiting approval"
        if now < self.valid_from:
            return "pending"
        if self.valid_to is not None and now >= self.valid_to:
            return "expired"
        return "active"
