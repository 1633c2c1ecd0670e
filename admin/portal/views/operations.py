"""The operator's pages: onboard and offboard kommuner, the databases with version, data as of
and size, and certificates expiring soon across kommuner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.operations import EXPIRY_WINDOW, database_overview
from admin.portal.session import PortalUser
from gateway.principal import Role
from gateway.store.errors import RecordNotFoundError

if TYPE_CHECKING:
    from admin.portal.app import Portal


def routes(portal: Portal) -> list[BaseRoute]:
    operator = portal.page(Role.OPERATOR)
    return [
        Route("/drift/kommuner", operator(_kommuner), methods=["GET"]),
        Route("/drift/kommuner/{kode}/onboard", portal.action(Role.OPERATOR, operation="admin.kommune.onboard")(_onboard), methods=["POST"]),
        Route("/drift/kommuner/{kode}/offboard", portal.action(Role.OPERATOR, operation="admin.kommune.offboard")(_offboard), methods=["POST"]),
        Route("/drift/databaser", operator(_databases), methods=["GET"]),
        Route("/drift/certifikater", operator(_certificates), methods=["GET"]),
    ]


def _kommuner(portal: Portal, request: Request, user: PortalUser) -> Response:
    return portal.render(request, user, "kommuner.html", kommuner=portal.store.list_kommuner())


def _kode(portal: Portal, request: Request) -> str:
    kode = request.path_params["kode"]
    if kode not in {k.kode for k in portal.store.list_kommuner()}:
        raise RecordNotFoundError("no such kommune")
    return str(kode)


def _onboard(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    portal.store.onboard_kommune(user.actor, _kode(portal, request))
    return portal.redirect(request, "/drift/kommuner")


def _offboard(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    portal.store.offboard_kommune(user.actor, _kode(portal, request))
    return portal.redirect(request, "/drift/kommuner")


def _databases(portal: Portal, request: Request, user: PortalUser) -> Response:
    databases = database_overview(portal.registry, user.actor) if portal.registry is not None else []
    return portal.render(request, user, "databases.html", databases=databases)


def _certificates(portal: Portal, request: Request, user: PortalUser) -> Response:
    expiring = portal.store.list_expiring_certificates(user.actor, within=EXPIRY_WINDOW)
    kommuner = {u.login: u.kommune_kode for u in portal.store.list_users(user.actor)}
    return portal.render(request, user, "expiring.html", certificates=expiring, kommuner=kommuner)
