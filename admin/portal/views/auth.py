"""Logging in (the client certificate the browser presented, or OpenID Connect), and out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.oidc import STATE_COOKIE, OIDCError
from admin.portal.security import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, delete_cookie, set_cookie
from admin.portal.session import PortalUser, load_portal_user, request_principal

logger = logging.getLogger("admin.portal.login")
CALLBACK = "/login/oidc/callback"

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

    async def login_oidc(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_oidc, portal, request)

    async def login_oidc_callback(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_oidc_callback, portal, request)

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login/certifikat", login_certificate, methods=["POST"]),
        Route("/login/oidc", login_oidc, methods=["GET"]),
        Route(CALLBACK, login_oidc_callback, methods=["GET"]),
        Route("/logout", portal.action(operation="admin.session.logout")(_logout), methods=["POST"]),
    ]


def _login_page(portal: Portal, request: Request) -> Response:
    if load_portal_user(portal, request) is not None:
        return portal.redirect(request, "/")
    cookie, token = portal.login_guard.issue()
    principal = request_principal(request)
    response = portal.render(
        request, None, "login.html", login_token=token, certificate_login=principal, oidc=portal.oidc is not None
    )
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


def _start_session(portal: Portal, request: Request, user_login: str, **session: str | None) -> Response:
    from admin.portal.app import PORTAL_ROLES

    user = portal.store.user_by_login(user_login)
    if user is None or user.status != "active" or not user.roles & PORTAL_ROLES or not portal.store.kommune_onboarded(user.kommune_kode):
        return portal.error_page(request, None, 403, portal.t("login.no_role"))
    client = request.client.host if request.client else None
    token, _session = portal.store.start_portal_session(user, client_address=client, **session)  # type: ignore[arg-type]
    response = portal.redirect(request, "/")
    set_cookie(response, SESSION_COOKIE, token)
    delete_cookie(response, LOGIN_COOKIE)
    delete_cookie(response, STATE_COOKIE)
    return response


def _login_oidc(portal: Portal, request: Request) -> Response:
    if portal.oidc is None:
        return portal.not_found(request, None)
    try:
        started = portal.oidc.start(portal.absolute_url(request, CALLBACK))
    except (OIDCError, OSError, KeyError, ValueError) as error:
        logger.warning("OpenID Connect login could not start: %s", error)
        return portal.error_page(request, None, 503, portal.t("login.oidc_unavailable"))
    response = Response(status_code=303, headers={"location": started.url})
    set_cookie(response, STATE_COOKIE, started.cookie)
    return response


def _login_oidc_callback(portal: Portal, request: Request) -> Response:
    if portal.oidc is None:
        return portal.not_found(request, None)
    params = request.query_params
    try:
        login, id_token = portal.oidc.finish(
            portal.absolute_url(request, CALLBACK), request.cookies.get(STATE_COOKIE), params.get("state"), params.get("code")
        )
    except (OIDCError, OSError, KeyError, ValueError) as error:
        logger.warning("OpenID Connect login refused: %s", error)
        response = portal.error_page(request, None, 403, portal.t("login.oidc_failed"))
        delete_cookie(response, STATE_COOKIE)
        return response
    return _start_session(portal, request, login, method="oidc", oidc_id_token=id_token)


def _logout(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    portal.store.end_portal_session(user.actor, user.session.id)
    response = portal.redirect(request, "/login")
    if user.session.method == "oidc" and portal.oidc is not None:
        try:  # end the provider's session too (RP-initiated logout)
            url = portal.oidc.logout_url(user.session.oidc_id_token, portal.absolute_url(request, "/login"))
        except (OIDCError, OSError, KeyError, ValueError) as error:
            logger.warning("OpenID Connect logout not passed on: %s", error)
            url = None
        if url:
            response = Response(status_code=303, headers={"location": url})
    delete_cookie(response, SESSION_COOKIE)
    return response
