"""The start page: what the logged-in role can do, and what needs attention."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.session import PortalUser
from gateway.principal import Role

if TYPE_CHECKING:
    from admin.portal.app import Portal

RECERTIFICATION_WINDOW = dt.timedelta(days=30)


def routes(portal: Portal) -> list[BaseRoute]:
    return [Route("/", portal.page()(_home), methods=["GET"])]


def _home(portal: Portal, request: Request, user: PortalUser) -> Response:
    awaiting: list[object] = []
    expiring: list[object] = []
    if user.has(Role.SECURITY_OFFICER, Role.OPERATOR):
        awaiting = list(portal.store.list_grants(user.actor, awaiting_approval=True))
        expiring = list(portal.store.list_grants(user.actor, expiring_within=RECERTIFICATION_WINDOW))
    return portal.render(request, user, "home.html", awaiting=awaiting, expiring=expiring)
