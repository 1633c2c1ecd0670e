"""Who is logged in to the portal on this request, checked afresh every time.

A session is alive only while the store says so (not ended, not idle or too old), its user is
still active with a portal role in an onboarded kommune, and, for a certificate login, the
request still comes with that very certificate: a revoked or swapped certificate ends it at the
next request, as at the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from admin.portal.security import SESSION_COOKIE
from gateway.principal import Principal, Role
from gateway.store.sessions import PortalSession
from gateway.store.views import Actor, UserView

if TYPE_CHECKING:
    from admin.portal.app import Portal


@dataclass(frozen=True, slots=True)
class PortalUser:
    session: PortalSession
    user: UserView

    @property
    def roles(self) -> frozenset[Role]:
        return self.user.roles

    @property
    def actor(self) -> Actor:
        """The actor for the service layer: operators act on every kommune, others on their own."""
        return Actor(login=self.user.login, roles=self.user.roles, kommune_kode=self.user.kommune_kode)

    def has(self, *roles: Role) -> bool:
        return bool(self.user.roles & frozenset(roles))


def request_principal(request: Request) -> Principal | None:
    """The principal the identity middleware resolved from this request's client certificate."""
    principal = request.scope.get("principal")
    return principal if isinstance(principal, Principal) else None


def load_portal_user(portal: Portal, request: Request) -> PortalUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    from admin.portal.app import PORTAL_ROLES

    session = portal.store.portal_session(token, idle=portal.config.idle, absolute=portal.config.absolute)
    if session is None:
        return None
    if session.method == "certificate":
        principal = request_principal(request)
        if principal is None or principal.cert_fingerprint != session.cert_fingerprint:
            return None
    user = portal.store.user_by_id(session.user_id)
    if user is None or user.status != "active" or not user.roles & PORTAL_ROLES:
        return None
    if not portal.store.kommune_onboarded(user.kommune_kode):
        return None
    return PortalUser(session=session, user=user)
