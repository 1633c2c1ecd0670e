"""Logging in with the client certificate the browser presented, and logging out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.security import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, delete_cookie, set_cookie
from admin.portal.session import PortalUser, load_portal_user, request_principal

if TYPE_CHECKING:
    from admin.portal.app import Portal


def routes(portal: Portal) -> list[BaseRoute]:
    async def login_page(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_page, portal, request)

    async def login_certificate(request: Request) -> Response:
        form = await request.form()
        try:
            return await anyio.to_thread.run_sync(_login_certificate, portal, request, form)
        finally:
            await form.close()

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login/certifikat", login_certificate, methods=["POST"]),
        Route("/logout", portal.action()(_logout), methods=["POST"]),
    ]


def _login_page(portal: Portal, request: Request) -> Response:
    if load_portal_user(portal, request) is not None:
        return portal.redirect(request, "/")
    cookie, token = portal.login_guard.issue()
    principal = request_principal(request)
    response = portal.render(request, None, "login.html", login_token=token, certificate_login=principal)
    set_cookie(response, LOGIN_COOKIE, cookie)
    return response


def _login_certificate(portal: Portal, request: Request, form: FormData) -> Response:
    from admin.portal.app import PORTAL_ROLES

    if not portal.login_guard.check(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return portal.error_page(request, None, 403, portal.t("error.csrf"))
    principal = request_principal(request)
    if principal is None:
        return portal.error_page(request, None, 401, portal.t("login.no_certificate"))
    user = portal.store.user_by_id(principal.user_id)
    if user is None or user.status != "active" or not user.roles & PORTAL_ROLES:
        return portal.error_page(request, None, 403, portal.t("login.no_role"))
    client = request.client.host if request.client else None
    token, _session = portal.store.start_portal_session(
        user, method="certificate", cert_fingerprint=principal.cert_fingerprint, client_address=client
    )
    response = portal.redirect(request, "/")
    set_cookie(response, SESSION_COOKIE, token)
    delete_cookie(response, LOGIN_COOKIE)
    return response


def _logout(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    portal.store.end_portal_session(user.actor, user.session.id)
    response = portal.redirect(request, "/login")
    delete_cookie(response, SESSION_COOKIE)
    return response
